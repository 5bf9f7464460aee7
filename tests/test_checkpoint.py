"""The batch checkpoint: atomic, and what a resumed run skips or re-runs (no bpy)."""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from leanroute.batch.circuit_breaker import CircuitBreaker
from leanroute.batch.worker_protocol import decode, encode
from leanroute.progress.checkpoint import Checkpoint, CheckpointError
from leanroute.route.atomic_files import stale_temporaries

HEADER = {"jobs_file": "/j.csv", "out_dir": "/out", "shard": "1/1"}


@dataclass
class FakeJob:
    id: str
    out: Path
    fingerprint: str = "f1"


def record(job, status, *, started_at=100.0, fingerprint="f1"):
    return {"id": job.id, "status": status, "fingerprint": fingerprint, "started_at": started_at}


def jobs_in(tmp_path, count=6):
    return [FakeJob(f"j{k}", tmp_path / f"j{k}.blend") for k in range(count)]


def test_the_plan_skips_finished_jobs_and_reruns_the_rest(tmp_path):
    done, gone, failed, interrupted, changed, new = jobs_in(tmp_path)
    done.out.write_bytes(b"BLENDER")
    changed.out.write_bytes(b"BLENDER")
    interrupted.out.write_bytes(b"old")  # an output from before the job started
    os.utime(interrupted.out, (50.0, 50.0))
    checkpoint = Checkpoint(tmp_path / "c.json", HEADER)
    for job, status in (
        (done, "done"),
        (gone, "done"),
        (failed, "failed"),
        (interrupted, "running"),
    ):
        checkpoint.jobs[job.id] = record(job, status)
    checkpoint.jobs[changed.id] = record(changed, "done", fingerprint="old")
    plan = checkpoint.plan([done, gone, failed, interrupted, changed, new])
    assert plan.done == ["j0"] and plan.failed == ["j2"]
    assert [job.id for job in plan.pending] == ["j1", "j3", "j4", "j5"]
    assert plan.rerun == {
        "j1": "its output is missing",
        "j3": "it was interrupted",
        "j4": "its settings changed",
    }
    assert [job.id for job in checkpoint.plan([failed], retry_failed=True).pending] == ["j2"]


def test_a_job_killed_after_its_output_landed_counts_as_done_not_twice(tmp_path):
    (job,) = jobs_in(tmp_path, 1)
    started = time.time() - 5
    job.out.write_bytes(b"BLENDER")  # renamed into place after the job started
    checkpoint = Checkpoint(tmp_path / "c.json", HEADER)
    checkpoint.jobs[job.id] = record(job, "running", started_at=started)
    plan = checkpoint.plan([job])
    assert plan.pending == [] and plan.recovered == ["j0"] and plan.done == ["j0"]
    saved = json.loads((tmp_path / "c.json").read_text())["jobs"]["j0"]
    assert saved["status"] == "done" and saved["recovered"] is True


def test_the_checkpoint_round_trips_and_refuses_another_batch(tmp_path):
    path = tmp_path / "c.json"
    checkpoint = Checkpoint.open(path, HEADER)
    checkpoint.start_run(mode="in-process")
    checkpoint.record({"id": "a", "status": "done", "finished_at": 2.0})
    checkpoint.record({"id": "b", "status": "failed", "finished_at": 1.0})
    again = Checkpoint.open(path, HEADER)
    assert [r["id"] for r in again.records()] == ["b", "a"]
    assert again.header["runs"][0]["mode"] == "in-process"
    assert not list(tmp_path.glob(".*tmp*"))  # written through a temporary, renamed
    with pytest.raises(CheckpointError, match="belongs to shard '1/1', not '2/3'"):
        Checkpoint.open(path, {**HEADER, "shard": "2/3"})
    # Damaged checkpoints are moved aside, not refused: tests/test_checkpoint_damage.py.


def test_stale_temporaries_of_dead_processes_are_found_live_ones_are_not(tmp_path):
    out = tmp_path / "a.blend"
    dead = tmp_path / ".a.tmp-999999999.blend"
    live = tmp_path / f".a.tmp-{os.getpid()}.blend"
    other = tmp_path / ".b.tmp-999999999.blend"
    for path in (dead, live, other):
        path.write_bytes(b"half")
    assert stale_temporaries(out) == [dead]


def test_the_breaker_opens_only_above_its_limit():
    breaker = CircuitBreaker(1000)
    assert not breaker.check(1000, "a") and not breaker.check(None, "b")
    assert breaker.check(1001, "c") and breaker.open
    assert "after job 'c'" in breaker.reason and "above 1000 B" in breaker.reason
    assert not CircuitBreaker(None).check(10**12)


def test_worker_events_survive_other_output_on_the_same_line():
    line = encode("stage", {"id": "a&b", "index": 3})
    assert decode(line) == {"event": "stage", "id": "a&b", "index": 3}
    assert decode("Info: Saved copy as x" + line) == decode(line)
    assert decode("Info: Saved") is None and decode(line[:-3]) is None


def test_a_large_checkpoint_journals_changes_and_replays_them(tmp_path, monkeypatch):
    from leanroute.progress import checkpoint as module

    monkeypatch.setattr(module, "SNAPSHOT_LIMIT", 0)  # act as if it were already large
    path = tmp_path / "c.json"
    checkpoint = Checkpoint.open(path, HEADER)
    checkpoint.start_run()
    snapshot = path.read_bytes()
    checkpoint.record({"id": "a", "status": "running", "pad": "x" * 50})
    assert path.read_bytes() == snapshot  # appended to the journal, not rewritten
    assert checkpoint.journal_path.is_file()
    checkpoint.record({"id": "a", "status": "done", "pad": "x" * 50})
    # A kill mid-append leaves a torn line: that change never completed and is skipped.
    with open(checkpoint.journal_path, "ab") as journal:
        journal.write(b'{"seq": 99, "record": {"id": "b", "sta')
    again = Checkpoint.open(path, HEADER)
    assert again.jobs["a"]["status"] == "done" and "b" not in again.jobs
    # Once the journal is as large as the snapshot, the snapshot is rewritten whole.
    for k in range(40):
        again.record({"id": f"j{k}", "status": "done"})
    assert json.loads(path.read_text())["seq"] > 3
    assert len(Checkpoint.open(path, HEADER).jobs) == 41


def test_journal_lines_older_than_the_snapshot_are_not_replayed(tmp_path):
    path = tmp_path / "c.json"
    checkpoint = Checkpoint.open(path, HEADER)
    checkpoint.record({"id": "a", "status": "running"})
    checkpoint.record({"id": "a", "status": "done"})
    # A journal left behind by a kill between the snapshot's rename and the journal's
    # removal holds only changes the snapshot already has.
    checkpoint.journal_path.write_text('{"seq": 1, "record": {"id": "a", "status": "running"}}\n')
    assert Checkpoint.open(path, HEADER).jobs["a"]["status"] == "done"


def test_a_second_run_of_the_same_batch_is_refused_while_the_first_holds_the_lock(tmp_path):
    from leanroute.batch.batch_lock import BatchLockedError, batch_lock

    lock = tmp_path / "lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        expected = f"already running \\(process {holder.pid}"
        with pytest.raises(BatchLockedError, match=expected), batch_lock(lock):
            pass
    finally:
        holder.kill()
        holder.wait()
    with batch_lock(lock):  # the kernel dropped the killed holder's lock
        assert lock.read_text().strip() == str(os.getpid())


LOCK_HOLDER = """
import sys, time
from leanroute.batch.batch_lock import batch_lock
with batch_lock(__import__("pathlib").Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""
