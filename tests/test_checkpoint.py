"""The batch checkpoint: atomic, and what a resumed run skips or re-runs (no bpy)."""

import json
import os
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
    path.write_text("{not json")
    with pytest.raises(CheckpointError, match="cannot read the checkpoint"):
        Checkpoint.open(path, HEADER)
    path.write_text('{"format": "something else"}')
    with pytest.raises(CheckpointError, match="not a LeanRoute batch checkpoint"):
        Checkpoint.open(path, HEADER)


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
