"""Batches and shards started at once on one ``--out`` never run a job twice.

Each shard keeps its own checkpoint and lock, so before per-job claims a whole batch and
one of its shards (or two overlapping shards) both ran every job they shared. Each test
starts the processes for real at the same moment and counts the builds in their event logs.
"""

import os
import signal
import sys
import time
from collections import Counter

import pytest
from helpers.batch_jobs import job_rows, write_csv
from helpers.batch_runs import all_events, check_finished, checkpoint_records, start

from leanroute.batch.jobs_file import read_jobs
from leanroute.progress.event_log import read_events

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="claims need flock (POSIX)")


def batch_of(tmp_path, count):
    path = write_csv(tmp_path / "jobs.csv", job_rows(count, cities=("lisbon",)))
    out = tmp_path / "out"
    return path, read_jobs(path, out), out


def together(jobs_path, out, *option_sets):
    """Start one batch per option set at the same moment; returns their (exit code, stderr)."""
    batches = [start(jobs_path, out, *options) for options in option_sets]
    results = []
    for batch in batches:
        _, err = batch.communicate(timeout=600)
        results.append((batch.returncode, err.decode()))
    return results


def builds(out) -> Counter:
    return Counter(e["id"] for e in all_events(out) if e["event"] == "job_started")


def adopted(out) -> Counter:
    return Counter(e["id"] for e in all_events(out) if e["event"] == "job_adopted")


def test_a_whole_batch_and_one_of_its_shards_at_once(tmp_path):
    jobs_path, jobs, out = batch_of(tmp_path, 8)
    results = together(jobs_path, out, ("--isolate", "--workers", "2"), ("--shard", "2/3"))
    assert [code for code, _ in results] == [0, 0], results
    assert builds(out) == {job.id: 1 for job in jobs}  # every job built once, by one of them
    # The shard's jobs (2, 5, 8) were each built by one and taken over by the other.
    assert adopted(out) == {"lisbon-02": 1, "lisbon-05": 1, "lisbon-08": 1}
    check_finished(out, jobs)  # the whole batch's checkpoint has all of them done
    shard = checkpoint_records(out, "checkpoint-shard-2-of-3.json")
    assert {r["status"] for r in shard.values()} == {"done"} and len(shard) == 3


def test_two_overlapping_shards_at_once(tmp_path):
    jobs_path, _, out = batch_of(tmp_path, 6)
    # 1/2 takes jobs 1, 3, 5; 1/3 takes jobs 1 and 4: job 1 is both's.
    results = together(jobs_path, out, ("--shard", "1/2"), ("--shard", "1/3"))
    assert [code for code, _ in results] == [0, 0], results
    assert builds(out) == {f"lisbon-0{k}": 1 for k in (1, 3, 4, 5)}
    assert adopted(out) == {"lisbon-01": 1}


def test_the_same_batch_twice_at_once(tmp_path):
    jobs_path, jobs, out = batch_of(tmp_path, 4)
    results = together(jobs_path, out, (), ())
    codes = sorted(code for code, _ in results)
    # The later one stops at the lock, or (if the first had already finished) skips every job.
    assert codes in ([0, 0], [0, 1]), results
    if codes == [0, 1]:
        refused = next(err for code, err in results if code == 1)
        assert "this batch of" in refused and "is already running (process" in refused
        assert len(refused.strip().splitlines()) == 1
    assert builds(out) == {job.id: 1 for job in jobs}
    check_finished(out, jobs)


def wait_for_event(path, predicate, process, timeout=300.0):
    """Poll the event log at *path* until an event matches; fail if *process* ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(predicate(event) for event in read_events(path)):
            return
        assert process.poll() is None, f"ended ({process.returncode}) before the awaited event"
        time.sleep(0.01)
    pytest.fail("the awaited event never came")


def test_a_job_running_in_another_process_is_waited_for_then_taken_over(tmp_path):
    jobs_path, jobs, out = batch_of(tmp_path, 4)
    state = out / "leanroute-batch"
    shard = start(jobs_path, out, "--shard", "2/4")  # lisbon-02 alone
    try:
        wait_for_event(
            state / "events-shard-2-of-4.jsonl",
            lambda e: e.get("id") == "lisbon-02" and e.get("stage") == "roads",
            shard,
        )
        os.kill(shard.pid, signal.SIGSTOP)  # holds lisbon-02's claim, mid-build
        whole = start(jobs_path, out)
        wait_for_event(state / "events.jsonl", lambda e: e["event"] == "job_waiting", whole)
        waiting = [e for e in read_events(state / "events.jsonl") if e["event"] == "job_waiting"]
        assert waiting[0]["id"] == "lisbon-02"
        assert f"process {shard.pid} (shard 2/4 of jobs.csv)" == waiting[0]["holder"]
        # It goes on with the others while it waits, and only then waits.
        wait_for_event(
            state / "events.jsonl",
            lambda e: e["event"] == "job_done" and e["id"] == "lisbon-04",
            whole,
        )
        assert whole.poll() is None
    finally:
        os.kill(shard.pid, signal.SIGCONT)
    assert shard.wait(timeout=600) == 0
    assert whole.wait(timeout=600) == 0
    assert builds(out) == {job.id: 1 for job in jobs}
    assert adopted(out) == {"lisbon-02": 1}
    check_finished(out, jobs)
