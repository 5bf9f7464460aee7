"""A job whose output folder cannot be created fails alone; the batch, and every resume, go on.

Before, ``mkdir`` raised FileExistsError outside the job's failure handling: the whole batch
stopped, the job stayed "running" in the checkpoint, and every resume died on it again.
"""

import json
import os
import sys

import pytest
from helpers.batch_jobs import job_rows, write_csv

from leanroute.batch.job_runner import JobRunner
from leanroute.batch.jobs_file import read_jobs
from leanroute.cli.commands import main
from leanroute.progress.event_log import read_events


def run_batch(jobs, out, *options):
    return main(["batch", str(jobs), "--out", str(out), *options])


def blocked_rows():
    rows = job_rows(4, cities=("lisbon",))
    rows[1]["out"] = "west/lisbon-02.blend"  # west is a file
    rows[2]["out"] = "pipe/deeper/lisbon-03.blend"  # pipe is a FIFO
    return rows


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_a_job_whose_folder_is_blocked_fails_alone_and_resumes_do_not_die(
    factory_scene, tmp_path, capsys
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "west").write_text("the user's notes")
    os.mkfifo(out / "pipe")
    jobs = write_csv(tmp_path / "jobs.csv", blocked_rows())

    assert run_batch(jobs, out) == 1
    state = out / "leanroute-batch"
    records = json.loads((state / "checkpoint.json").read_text())["jobs"]
    assert [records[f"lisbon-0{k}"]["status"] for k in (1, 2, 3, 4)] == [
        "done", "failed", "failed", "done",
    ]  # fmt: skip
    west, pipe = out / "west", out / "pipe"
    assert records["lisbon-02"]["reason"] == (
        f"out: cannot create the folder {west}: {west} is a file, not a folder; "
        "move it away or change the job's out"
    )
    assert records["lisbon-03"]["reason"] == (
        f"out: cannot create the folder {pipe / 'deeper'}: {pipe} is a named pipe (FIFO), "
        "not a folder; move it away or change the job's out"
    )
    events = read_events(state / "events.jsonl")
    failed = {e["id"]: e["reason"] for e in events if e["event"] == "job_failed"}
    assert failed == {"lisbon-02": records["lisbon-02"]["reason"],
                      "lisbon-03": records["lisbon-03"]["reason"]}  # fmt: skip
    assert events[-1]["event"] == "batch_finished"
    printed = capsys.readouterr()
    assert "batch: 4 jobs: 2 done, 2 failed" in printed.out
    assert f"failed: lisbon-02: out: cannot create the folder {west}" in printed.out
    assert "Traceback" not in printed.err and "FileExistsError" not in printed.err
    assert (out / "west").read_text() == "the user's notes"  # nothing of the user's touched

    # A resume does not die on them, nor run them again.
    assert run_batch(jobs, out, "--quiet") == 1
    events = read_events(state / "events.jsonl")
    assert [e["event"] for e in events].count("job_started") == 4
    assert events[-1]["event"] == "batch_finished"

    # Moved out of the way, they run with --retry-failed.
    (out / "west").rename(tmp_path / "notes")
    (out / "pipe").unlink()
    assert run_batch(jobs, out, "--retry-failed", "--quiet") == 0
    assert (out / "west" / "lisbon-02.blend").read_bytes()[:7] == b"BLENDER"
    assert (out / "pipe" / "deeper" / "lisbon-03.blend").read_bytes()[:7] == b"BLENDER"


def test_a_worker_job_whose_folder_is_blocked_fails_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "west").write_text("x")
    rows = job_rows(2, cities=("lisbon",))
    rows[0]["out"] = "west/a.blend"
    jobs = write_csv(tmp_path / "jobs.csv", rows)
    assert run_batch(jobs, out, "--isolate", "--quiet") == 1
    records = json.loads((out / "leanroute-batch" / "checkpoint.json").read_text())["jobs"]
    assert records["lisbon-01"]["status"] == "failed"
    assert f"{out / 'west'} is a file, not a folder" in records["lisbon-01"]["reason"]
    assert records["lisbon-02"]["status"] == "done"


@pytest.mark.parametrize("kind", ["a file", "a FIFO", "a name too long", "a file deep down"])
def test_the_runner_records_why_the_folder_cannot_be_made(factory_scene, tmp_path, kind):
    if kind == "a FIFO" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    out = tmp_path / "out"
    out.mkdir()
    rows = job_rows(1, cities=("lisbon",))
    jobs = read_jobs(write_csv(tmp_path / "jobs.csv", rows), out)
    blocker = out / "sub"
    target = {
        "a file": blocker / "a.blend",
        "a FIFO": blocker / "a.blend",
        "a name too long": out / ("n" * 300) / "a.blend",
        "a file deep down": blocker / "x" / "y" / "a.blend",
    }[kind]
    if kind == "a FIFO":
        os.mkfifo(blocker)
    elif kind != "a name too long":
        blocker.write_text("x")
    job = jobs[0]
    job = type(job)(job.id, job.row, job.where, job.settings.but(out=target), job.fingerprint)
    record = JobRunner(reports_dir=tmp_path / "reports").run(job)
    assert record["status"] == "failed"
    expected = {
        "a file": f"{blocker} is a file, not a folder",
        "a FIFO": f"{blocker} is a named pipe (FIFO), not a folder",
        "a name too long": "is 300 bytes long, the file system allows 255; use a shorter out",
        "a file deep down": f"{blocker} is a file, not a folder",
    }[kind]
    assert expected in record["reason"] and record["reason"].startswith("out: cannot create")
    assert "Error" not in record["reason"]
