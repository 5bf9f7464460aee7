"""``kill -9`` at every named moment of a batch, then resume: nothing lost, done once, no leftovers.

Each batch runs as its own process and kills itself with SIGKILL at an exact moment
(``LEANROUTE_TEST_KILL``, route/kill_points.py): a temporary created or complete but not
renamed, an output renamed but not recorded, the checkpoint, the job report, the batch report
and its chart half-way. Blender's own ``….blend@`` is caught the moment the kernel creates
it. The kills follow each other on one ``--out`` (each resume starts from what the last
kill left); after the last resume every job is done exactly once, no temporary is left
anywhere under ``--out``, every job report is there, every output is a .blend.
"""

import os
import random
import signal
import sys
import time

import pytest
from helpers.batch_jobs import job_rows, write_csv
from helpers.batch_runs import (
    all_events,
    check_finished,
    checkpoint_records,
    completions,
    killed,
    run,
    start,
    temporaries,
)
from helpers.file_watch import FolderWatch
from helpers.file_watch import available as inotify_available
from helpers.fuzz_scale import fuzz_scale

from leanroute.batch.jobs_file import read_jobs
from leanroute.route.atomic_files import temporary_of

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

BLENDER_SAVING = "blend@"  # not a hook: the test kills the writer when Blender's @ appears


def batch_of(tmp_path, count):
    """*count* small jobs, every third one into a subfolder; (jobs file, jobs, --out)."""
    rows = job_rows(count, cities=("lisbon",))
    for k, row in enumerate(rows):
        if k % 3 == 1:
            row["out"] = f"west/{row['id']}.blend"
    out = tmp_path / "out"
    (out / "west").mkdir(parents=True)
    path = write_csv(tmp_path / "jobs.csv", rows)
    return path, read_jobs(path, out), out


def kill_while_blender_saves(jobs_path, out, *options) -> str:
    """Run a batch and SIGKILL the process writing the first ``….blend@``; returns its name.

    That is the batch itself, or (with workers) the worker saving: the batch then goes on.
    """
    with FolderWatch(out, out / "west") as watch:
        batch = start(jobs_path, out, *options)
        try:
            name = watch.wait_for("*.blend@", timeout=300, alive=lambda: batch.poll() is None)
            assert name, f"no .blend@ appeared (exit {batch.poll()})"
            os.kill(temporary_of(name)[1], signal.SIGKILL)
        finally:
            batch.communicate(timeout=600)
    return name


#: kill point -> a glob (under --out) of what the kill must have left, or None
IN_PROCESS = {
    "temp-started:checkpoint.json": "leanroute-batch/.checkpoint.tmp-*.json",
    "claimed": None,
    "stage:roads": None,
    BLENDER_SAVING: "**/.lisbon-*.tmp-*.blend@",
    "temp-written:*.blend": "**/.lisbon-*.tmp-*.blend",
    "temp-started:lisbon-*.json": "leanroute-batch/jobs/.lisbon-*.tmp-*.json",
    "temp-written:lisbon-*.json": "leanroute-batch/jobs/.lisbon-*.tmp-*.json",
    "renamed:lisbon-*.json": None,
    "renamed:*.blend": None,
    "job-finished": None,
    "temp-written:checkpoint.json#3": "leanroute-batch/.checkpoint.tmp-*.json",
    "renamed:checkpoint.json#2": None,
    # The batch's end: every job done, the report and the chart being written.
    "temp-written:report.json": "leanroute-batch/.report.tmp-*.json",
    "temp-started:memory-timeline.svg": "leanroute-batch/.memory-timeline.tmp-*.svg",
    "temp-written:memory-timeline.svg": "leanroute-batch/.memory-timeline.tmp-*.svg",
}


def test_kills_at_every_named_moment_of_an_in_process_batch(tmp_path):
    jobs_path, jobs, out = batch_of(tmp_path, 12)
    left = 0
    for point, leftover in IN_PROCESS.items():
        if point == BLENDER_SAVING:
            if not inotify_available:
                continue  # Linux only; the other points run everywhere with SIGKILL
            kill_while_blender_saves(jobs_path, out)
        else:
            result = run(jobs_path, out, kill=point)
            assert killed(result), f"{point}: never reached ({result.returncode}) {result.stderr}"
        if leftover:
            assert list(out.glob(leftover)), f"{point}: left no {leftover}: {temporaries(out)}"
            left += 1
        assert max(completions(out).values(), default=0) <= 1, f"{point}: a job done twice"
    final = run(jobs_path, out)
    assert final.returncode == 0, final.stdout + final.stderr
    check_finished(out, jobs)
    # The resumes removed what each kill left and wrote the reports kills skipped.
    removed = sum(e.get("temporaries_removed", 0) for e in all_events(out))
    assert removed >= left


#: Workers killed at these moments, each in the job named; the coordinator goes on.
WORKER_KILLS = (
    "temp-written:lisbon-02.blend,"  # its output complete, not renamed: the job failed
    "renamed:lisbon-03.blend,"  # renamed: the job had finished
    "job-finished:lisbon-04"  # its runner returned, nothing recorded yet: finished
)


@pytest.mark.skipif(not inotify_available, reason="inotify is Linux")
def test_kills_of_workers_and_of_their_coordinator(tmp_path):
    jobs_path, jobs, out = batch_of(tmp_path, 6)
    # One run: four workers killed (the fifth while Blender writes lisbon-05's .blend@).
    with FolderWatch(out, out / "west") as watch:
        batch = start(jobs_path, out, "--isolate", kill=WORKER_KILLS)
        try:
            saving = watch.wait_for(
                ".lisbon-05.tmp-*.blend@", timeout=300, alive=lambda: batch.poll() is None
            )
            assert saving, f"lisbon-05 was never saved (exit {batch.poll()})"
            os.kill(temporary_of(saving)[1], signal.SIGKILL)
        finally:
            batch.communicate(timeout=600)
    assert batch.returncode == 1  # two jobs failed; the batch went on
    records = checkpoint_records(out)
    status = {job_id: record["status"] for job_id, record in records.items()}
    assert status == {"lisbon-01": "done", "lisbon-02": "failed", "lisbon-03": "done",
                      "lisbon-04": "done", "lisbon-05": "failed", "lisbon-06": "done"}  # fmt: skip
    assert "killed by SIGKILL" in records["lisbon-02"]["reason"]
    assert records["lisbon-03"]["recovered"] and records["lisbon-04"]["recovered"]
    # The coordinator removed what its killed workers left, as each one ended.
    assert temporaries(out) == []
    removed = [e["temporaries_removed"] for e in all_events(out) if e["event"] == "worker_exit"]
    assert sum(removed) >= 2  # lisbon-02's .blend, lisbon-05's .blend@ (and their reports')
    # Retried, and the coordinator killed while it writes the checkpoint (its workers die
    # with it), then resumed to the end.
    again = ("--isolate", "--retry-failed")
    result = run(jobs_path, out, *again, kill="temp-written:checkpoint.json#3")
    assert killed(result), f"never reached ({result.returncode}) {result.stderr}"
    assert max(completions(out).values()) == 1
    final = run(jobs_path, out, *again)
    assert final.returncode == 0, final.stdout + final.stderr
    check_finished(out, jobs)


def test_kills_at_random_moments(tmp_path):
    """Kills with no hook at all, at times from a fixed seed, in every mode."""
    rng = random.Random(19)
    jobs_path, jobs, out = batch_of(tmp_path, 6)
    modes = [(), ("--isolate",), ("--recycle-every", "2"), ("--isolate", "--workers", "2")]
    for _ in range(3 * fuzz_scale()):
        batch = start(jobs_path, out, *rng.choice(modes))
        time.sleep(rng.uniform(0.5, 6.0))
        batch.kill()
        batch.wait(timeout=60)
    final = run(jobs_path, out)
    assert final.returncode == 0, final.stdout + final.stderr
    check_finished(out, jobs)


@pytest.mark.skipif(not inotify_available, reason="inotify is Linux")
def test_blenders_own_save_temporary_is_removed_on_resume(tmp_path):
    jobs_path, jobs, out = batch_of(tmp_path, 1)
    name = kill_while_blender_saves(jobs_path, out)
    assert name.endswith(".blend@") and [p.name for p in temporaries(out)] == [name]
    final = run(jobs_path, out)
    assert final.returncode == 0, final.stderr
    check_finished(out, jobs)
