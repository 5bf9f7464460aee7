"""Per-job claims, the evidence that a job's output is complete, and the resume's sweep (no bpy)."""

import json
import os
import subprocess
import sys
import time

import pytest
from helpers.batch_jobs import job_rows, write_csv

from leanroute.batch import job_claims
from leanroute.batch.batch_paths import BatchPaths
from leanroute.batch.job_claims import JobClaims, claim_name
from leanroute.batch.job_evidence import complete_output, settled_elsewhere
from leanroute.batch.jobs_file import read_jobs
from leanroute.batch.resume import sweep_temporaries, write_missing_reports
from leanroute.route.atomic_files import stale_temporaries

HOLDER = """
import sys, time
from pathlib import Path
from leanroute.batch.job_claims import JobClaims
claim = JobClaims(Path(sys.argv[1]), by="shard 2/4 of jobs.csv").claim("a")
claim.note("running", fingerprint="f1", started_at=time.time())
print("claimed", flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(job_claims.fcntl is None, reason="claims lock with flock (POSIX)")
def test_a_claim_is_one_process_at_a_time_and_dies_with_its_holder(tmp_path):
    claims = JobClaims(tmp_path, by="batch of jobs.csv")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "claimed"
        assert claims.claim("a") is None
        assert claims.holder("a") == f"process {holder.pid} (shard 2/4 of jobs.csv)"
        assert claims.claim("b") is not None  # other jobs are free
    finally:
        holder.kill()
        holder.wait()
    with open(claims.path("a"), "ab") as handle:
        handle.write(b'{"id": "a", "status": "do')  # a line torn by the kill
    claim = claims.claim("a")  # the kernel dropped the killed holder's lock
    assert claim is not None
    claim.note("done", fingerprint="f1", out_bytes=7)
    assert [(e["status"], e["pid"]) for e in claim.history()] == [
        ("running", holder.pid), ("done", os.getpid()),
    ]  # fmt: skip
    claim.release()


def test_without_flock_a_claim_still_works(tmp_path, monkeypatch):
    monkeypatch.setattr(job_claims, "fcntl", None)  # as on Windows
    claims = JobClaims(tmp_path, by="batch")
    first = claims.claim("a")
    first.note("running", fingerprint="f1")
    assert claims.history("a")[0]["status"] == "running"
    first.release()


def test_long_job_ids_get_short_distinct_claim_names():
    one, two = "x" * 300 + "1", "x" * 300 + "2"
    assert len(claim_name(one)) < 100 and claim_name(one) != claim_name(two)
    assert claim_name("krems-01") == "krems-01.claim"
    assert claim_name("..") == "...claim"  # never the parent folder


# -- evidence --------------------------------------------------------------------------------


@pytest.fixture
def job(tmp_path):
    rows = job_rows(1, cities=("lisbon",))
    return read_jobs(write_csv(tmp_path / "jobs.csv", rows), tmp_path / "out")[0]


def build_output(job, paths, *, report=True, size=2000):
    """A finished build's files: the .blend and (optionally) its job report."""
    job.out.parent.mkdir(parents=True, exist_ok=True)
    job.out.write_bytes(b"BLENDER-v500" + b"\0" * (size - 12))
    if report:
        paths.job_reports.mkdir(parents=True, exist_ok=True)
        data = {
            "settings": {"build": {**job.settings.to_dict(), "report": "x.json"}},
            "results": {"out": {"path": str(job.out), "bytes": size}},
        }
        (paths.job_reports / f"{job.id}.json").write_text(json.dumps(data))


def line(job, status, **fields):
    return {"id": job.id, "status": status, "fingerprint": job.fingerprint, "by": "shard 2/4",
            **fields}  # fmt: skip


def test_an_output_is_complete_only_on_evidence(tmp_path, job):
    paths = BatchPaths(tmp_path / "out")
    report = paths.job_reports / f"{job.id}.json"
    assert complete_output(job, report, []) is None  # nothing there
    build_output(job, paths)
    assert complete_output(job, report, []) == "its .blend and its job report are in place"
    # A later build of other settings replaced the .blend (killed before its report).
    other = [line(job, "running", fingerprint="other", started_at=time.time())]
    assert complete_output(job, report, other) is None
    job.out.write_bytes(b"BLENDER" + b"\0" * 10)  # not the size the report gives
    assert complete_output(job, report, []) is None
    job.out.write_bytes(b"PK\3\4 not a blend")
    assert complete_output(job, report, []) is None


def test_a_claim_history_vouches_without_a_job_report(tmp_path, job):
    paths = BatchPaths(tmp_path / "out")
    report = paths.job_reports / f"{job.id}.json"
    started = time.time() - 5
    build_output(job, paths, report=False)
    running = [line(job, "running", started_at=started)]
    assert complete_output(job, report, running) == (
        "its .blend was renamed into place after the job started"
    )
    assert complete_output(job, report, [line(job, "running", started_at=time.time() + 60)]) is None
    done = [line(job, "done", started_at=started, finished_at=time.time() + 1, out_bytes=2000)]
    assert complete_output(job, report, done) == "shard 2/4 finished it"
    done[0]["out_bytes"] = 1999
    assert complete_output(job, report, done) is None


def test_what_another_run_settled_is_taken_over(tmp_path, job):
    paths = BatchPaths(tmp_path / "out")
    report = paths.job_reports / f"{job.id}.json"
    now = time.time()
    build_output(job, paths)
    done = settled_elsewhere(job, [line(job, "done", out_bytes=2000)], report, since=now,
                             retry_failed=False)  # fmt: skip
    assert done["status"] == "done" and done["by"] == "shard 2/4"
    old_failure = [line(job, "failed", reason="waypoint 1 …", finished_at=now - 100)]
    new_failure = [line(job, "failed", reason="waypoint 1 …", finished_at=now + 1)]
    failed = settled_elsewhere(job, old_failure, report, since=now, retry_failed=False)
    assert failed == {"status": "failed", "reason": "waypoint 1 …", "by": "shard 2/4", "how": ""}
    # Retried: a failure from before this run runs again; one from during it does not.
    assert settled_elsewhere(job, old_failure, report, since=now, retry_failed=True) is None
    assert settled_elsewhere(job, new_failure, report, since=now, retry_failed=True)
    changed = [line(job, "done", fingerprint="older settings")]
    assert settled_elsewhere(job, changed, report, since=now, retry_failed=False) is None


# -- the resume's sweep ----------------------------------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_sweep_removes_dead_writers_temporaries_of_leanroute_files_only(tmp_path, job):
    paths = BatchPaths(tmp_path / "out")
    paths.create()
    out_folder = job.out.parent
    dead = dead_pid()
    ours = [
        out_folder / f".{job.out.stem}.tmp-{dead}.blend",
        out_folder / f".{job.out.stem}.tmp-{dead}.blend@",  # Blender's, mid-save
        paths.state / f".checkpoint.tmp-{dead}.json",
        paths.state / f".report-shard-2-of-4.tmp-{dead}.json",
        paths.state / f".memory-timeline.tmp-{dead}.svg",
        paths.job_reports / f".{job.id}.tmp-{dead}.json",
    ]
    users = [
        out_folder / f".notes.tmp-{dead}.blend",  # not a job's output: the user's
        out_folder / "krems.blend@",
        out_folder / f"{job.out.stem}.tmp-{dead}.blend",
    ]
    alive = out_folder / f".{job.out.stem}.tmp-{os.getpid()}.blend"  # a write in progress
    for path in (*ours, *users, alive):
        path.write_bytes(b"x")
    removed = sweep_temporaries(paths, [job])
    assert sorted(removed) == sorted(ours)
    assert all(path.exists() for path in (*users, alive))


def test_a_reused_pid_does_not_keep_a_temporary_alive(tmp_path):
    # A live process (this one's parent shell or any other) that started after the
    # temporary was last written only got the dead writer's pid again.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        temporary = tmp_path / f".a.tmp-{sleeper.pid}.blend"
        temporary.write_bytes(b"x")
        os.utime(temporary, (time.time() - 3600, time.time() - 3600))
        assert stale_temporaries(tmp_path / "a.blend") == [temporary]
        os.utime(temporary, None)  # written now, by a process that runs: in progress
        assert stale_temporaries(tmp_path / "a.blend") == []
    finally:
        sleeper.kill()
        sleeper.wait()


def test_only_missing_job_reports_are_written_again(tmp_path, job):
    paths = BatchPaths(tmp_path / "out")
    paths.create()
    build_output(job, paths, report=False)
    records = {job.id: {"status": "done", "recovered": True}}
    assert write_missing_reports(paths, [job], records) == [job.id]
    report = json.loads((paths.job_reports / f"{job.id}.json").read_text())
    assert report["recovered"] is True and "renamed into place" in report["note"]
    assert report["results"]["out"]["bytes"] == 2000
    assert complete_output(job, paths.job_reports / f"{job.id}.json", []) is not None
    (paths.job_reports / f"{job.id}.json").write_text("the build's own report")
    assert write_missing_reports(paths, [job], records) == []  # never replaced
    assert (paths.job_reports / f"{job.id}.json").read_text() == "the build's own report"


@pytest.mark.parametrize(
    "entry",
    [
        b"[" * 100_000,
        b"9" * 5000,
        b'{"status": 5}',
        b"null",
        b'{"id": "lisbon-01", "status": "done", "fingerprint": null, "out_bytes": "2000"}',
        b'{"id": "lisbon-01", "status": "running", "started_at": "soon", "fingerprint": 1}',
        b'{"id": "lisbon-01", "status": "failed", "finished_at": [], "reason": {"a": 1}}',
        b'{"id": "lisbon-01", "status": "finished", "by": 7}',
    ],
)
def test_a_hand_edited_claim_history_never_raises(tmp_path, job, entry):
    paths = BatchPaths(tmp_path / "out")
    paths.create()
    build_output(job, paths, report=False)
    claims = JobClaims(paths.claims, by="batch")
    path = claims.path(job.id)
    path.write_bytes(entry + b"\n" + entry)  # the second copy torn: no newline
    for fingerprint in (job.fingerprint, None):
        history = [
            {**e, "fingerprint": fingerprint} if isinstance(e, dict) else e
            for e in claims.history(job.id)
        ]
        report = paths.job_reports / f"{job.id}.json"
        complete_output(job, report, history)
        settled_elsewhere(job, history, report, since=time.time(), retry_failed=True)
    claim = claims.claim(job.id)
    claim.note("running", fingerprint=job.fingerprint)
    assert claim.history()[-1]["status"] == "running"
    claim.release()
