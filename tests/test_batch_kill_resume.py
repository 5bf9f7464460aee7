"""A batch killed with SIGKILL resumes without redoing or losing work; workers may die too.

Each test runs the batch as its own process (the bpy module through cli/blender_script.py),
the way a user or a farm does, and kills it for real.
"""

import json
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest
from helpers.batch_jobs import job_rows, write_csv
from helpers.paths import REPO_ROOT

from leanroute.progress.event_log import read_events

SCRIPT = REPO_ROOT / "cli" / "blender_script.py"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def command(jobs, out, *options):
    return [sys.executable, str(SCRIPT), "--", "batch", str(jobs), "--out", str(out), *options]


def run_to_end(jobs, out, *options):
    """Run a batch as its own process until it ends."""
    return subprocess.run(
        command(jobs, out, *options), capture_output=True, text=True, timeout=600, check=False
    )


def events(out):
    return read_events(out / "leanroute-batch" / "events.jsonl")


def checkpoint(out):
    return json.loads((out / "leanroute-batch" / "checkpoint.json").read_text())["jobs"]


def test_a_batch_killed_mid_job_resumes_and_finishes_every_job_once(tmp_path):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(20, padding=300))
    out = tmp_path / "out"
    victim = "krems-09"
    # Killed as the ninth job's roads stage starts (a kill sent after seeing that stage in
    # the log could land after the job had finished, on a busy machine).
    batch = subprocess.run(
        command(jobs, out, "--quiet"),
        capture_output=True,
        timeout=600,
        check=False,
        env={**os.environ, "LEANROUTE_TEST_KILL": "stage:roads#9"},
    )
    assert batch.returncode == -signal.SIGKILL

    # Killed mid-job: eight jobs done, the ninth running, no output under its name.
    records = checkpoint(out)
    assert sum(r["status"] == "done" for r in records.values()) == 8
    assert records[victim]["status"] == "running"
    assert not (out / f"{victim}.blend").exists()
    assert all(path.read_bytes()[:7] == b"BLENDER" for path in out.glob("*.blend"))

    again = run_to_end(jobs, out)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "batch: 20 jobs: 20 done, 0 failed (8 finished in an earlier run)" in again.stdout

    records = checkpoint(out)
    assert len(records) == 20 and {r["status"] for r in records.values()} == {"done"}
    log = events(out)
    done = Counter(e["id"] for e in log if e["event"] == "job_done")
    started = Counter(e["id"] for e in log if e["event"] == "job_started")
    assert set(done.values()) == {1} and len(done) == 20  # no job done twice, none lost
    assert started[victim] == 2 and sum(started.values()) == 21
    assert records[victim]["attempts"] == 2
    names = sorted(path.name for path in out.iterdir() if path.is_file())
    assert names == sorted(f"{row['id']}.blend" for row in job_rows(20))  # no temporaries
    assert all(path.read_bytes()[:7] == b"BLENDER" for path in out.glob("*.blend"))
    report = json.loads((out / "leanroute-batch" / "report.json").read_text())
    assert len(report["jobs"]) == 20 and report["summary"]["processes"] == 2


def test_a_worker_killed_mid_job_fails_that_job_only(tmp_path):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(3, cities=("krems",), padding=300))
    out = tmp_path / "out"
    # The worker of krems-02 kills itself with its .blend saved but not yet renamed into
    # place: mid-job, at an exact moment (the other workers pass that moment for their jobs).
    batch = subprocess.run(
        command(jobs, out, "--isolate", "--quiet"),
        capture_output=True,
        timeout=600,
        check=False,
        env={**os.environ, "LEANROUTE_TEST_KILL": "temp-written:krems-02.blend"},
    )
    assert batch.returncode == 1
    records = checkpoint(out)
    assert [records[f"krems-0{k}"]["status"] for k in (1, 2, 3)] == ["done", "failed", "done"]
    assert "killed by SIGKILL (out of memory?)" in records["krems-02"]["reason"]
    retry = run_to_end(jobs, out, "--isolate", "--retry-failed")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert checkpoint(out)["krems-02"]["status"] == "done"


def test_the_circuit_breaker_goes_on_in_a_fresh_process(tmp_path):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(3, cities=("lisbon",)))
    out = tmp_path / "out"
    run = run_to_end(jobs, out, "--restart-above", "1MB")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "circuit breaker: RSS stays at" in run.stderr
    log = events(out)
    assert [e["event"] for e in log].count("restart") == 2  # after jobs 1 and 2
    records = checkpoint(out)
    assert {r["status"] for r in records.values()} == {"done"}
    assert len({r["process"]["run"] for r in records.values()}) == 3  # three fresh processes
    assert "batch: 3 jobs: 3 done, 0 failed (2 finished in an earlier run)" in run.stdout
