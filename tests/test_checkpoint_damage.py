"""A damaged checkpoint is moved aside and rebuilt from the complete outputs, never a traceback.

Every kind of damage a disk or a hand edit can do (truncated, emptied, binary garbage, not
UTF-8, not JSON, JSON of the wrong shape, wrong types, NaN, huge numbers, deep nesting, a
folder or a FIFO in its place) must give one warning line, keep the damaged file under a
new name, and let the batch go on without running the jobs whose outputs are complete.
"""

import json
import os
import random
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.batch_jobs import job_rows, write_csv
from helpers.unprivileged import as_unprivileged, open_to_everyone

from leanroute.cli.commands import main
from leanroute.progress.checkpoint import Checkpoint
from leanroute.progress.event_log import read_events

HEADER = {"jobs_file": "/j.csv", "out_dir": "/out", "shard": "1/1"}


def valid_checkpoint() -> dict:
    record = {
        "id": "a",
        "row": 1,
        "fingerprint": "f1",
        "status": "done",
        "reason": "",
        "attempts": 1,
        "started_at": 100.0,
        "finished_at": 101.0,
        "process": {"pid": 42, "run": "42-1-ab", "sequence": 0},
        "out": "/out/a.blend",
        "metrics": {
            "seconds": 1.0,
            "rss": {"before": 1, "peak": 3, "after": 2},
            "blender": {"before": 1, "peak": 3, "after": 2},
            "leaks_swept": {"bmeshes": 0, "orphans": 0},
            "stages": [{"name": "parse", "seconds": 0.5, "rss": {"peak": 3}}],
        },
    }
    return {
        "format": "leanroute-batch-checkpoint",
        "version": 1,
        **HEADER,
        "runs": [{"started": 99.0, "pid": 42}],
        "seq": 2,
        "jobs": {"a": record},
    }


def edited(change) -> bytes:
    data = valid_checkpoint()
    change(data)
    return json.dumps(data).encode()


def set_in(path: str, value):
    """A change that sets the dotted *path* (``jobs.a.attempts``) to *value*."""

    def change(data):
        *parents, last = path.split(".")
        for key in parents:
            data = data[key] if isinstance(data, dict) else data[int(key)]
        if isinstance(data, list):
            data[int(last)] = value
        else:
            data[last] = value

    return change


def drop(path: str):
    def change(data):
        *parents, last = path.split(".")
        for key in parents:
            data = data[key]
        del data[last]

    return change


VALID = json.dumps(valid_checkpoint()).encode()

#: kind of damage -> (the bytes on disk, words the warning gives for it)
DAMAGE = {
    "empty": (b"", "the file is empty"),
    "only whitespace": (b"  \n\t\n", "the file is empty"),
    "truncated": (VALID[: len(VALID) // 2], "not valid JSON (line 1"),
    "truncated after the header": (VALID[:40], "not valid JSON"),
    "not JSON": (b"{not json", "not valid JSON (line 1, column 2"),
    "binary garbage": (random.Random(19).randbytes(400), "not UTF-8 text"),
    "UTF-16": ('{"format": 1}'.encode("utf-16"), "not UTF-8 text"),
    "NUL bytes": (b"\0" * 64, "not valid JSON"),
    "a JSON list": (b"[]", "holds a list, not a JSON object"),
    "JSON null": (b"null", "holds null, not a JSON object"),
    "a JSON number": (b"42", "holds 42, not a JSON object"),
    "a JSON string": (b'"checkpoint"', "not a JSON object"),
    "another format": (edited(set_in("format", "something else")), "not a LeanRoute"),
    "no format": (edited(drop("format")), "not a LeanRoute batch checkpoint"),
    "jobs a list": (edited(set_in("jobs", [])), "jobs is a list, not an object"),
    "jobs null": (edited(set_in("jobs", None)), "jobs is null, not an object"),
    "runs an object": (edited(set_in("runs", {})), "runs is an object, not a list"),
    "a run a string": (edited(set_in("runs", ["x"])), "run 1 is 'x' (text)"),
    "seq as text": (edited(set_in("seq", "2")), "seq is '2' (text), not a whole number"),
    "seq negative": (edited(set_in("seq", -1)), "seq is -1, not a whole number"),
    "version as text": (edited(set_in("version", "1")), "version is '1' (text)"),
    "out_dir a number": (edited(set_in("out_dir", 5)), "out_dir is 5, not text"),
    "a record null": (edited(set_in("jobs.a", None)), "job 'a': the record is null"),
    "a record a list": (edited(set_in("jobs.a", ["a"])), "the record is a list"),
    "no status": (edited(drop("jobs.a.status")), "job 'a': the record has no 'status'"),
    "no id": (edited(drop("jobs.a.id")), "job 'a': the record has no 'id'"),
    "unknown status": (edited(set_in("jobs.a.status", "finished")), "status is 'finished'"),
    "status a number": (edited(set_in("jobs.a.status", 1)), "status is 1, not text"),
    "id mismatch": (edited(set_in("jobs.a.id", "b")), "filed under the id 'a'"),
    "attempts as text": (
        edited(set_in("jobs.a.attempts", "3")),
        "job 'a': attempts is '3' (text), not a whole number",
    ),
    "attempts a float": (edited(set_in("jobs.a.attempts", 1.5)), "attempts is 1.5"),
    "attempts true": (edited(set_in("jobs.a.attempts", True)), "attempts is true/false"),
    "attempts huge": (edited(set_in("jobs.a.attempts", 10**30)), "attempts is 1000000"),
    "attempts with 5000 digits": (
        VALID.replace(b'"attempts": 1', b'"attempts": ' + b"9" * 5000),
        "not valid JSON (Exceeds the limit",
    ),
    "started_at as text": (edited(set_in("jobs.a.started_at", "abc")), "started_at is 'abc'"),
    "started_at NaN": (
        VALID.replace(b'"started_at": 100.0', b'"started_at": NaN'),
        "NaN is not a number JSON allows",
    ),
    "finished_at Infinity": (
        VALID.replace(b'"finished_at": 101.0', b'"finished_at": -Infinity'),
        "-Infinity is not a number JSON allows",
    ),
    "finished_at 1e999": (
        VALID.replace(b'"finished_at": 101.0', b'"finished_at": 1e999'),
        "finished_at is inf, not a finite number",
    ),
    "fingerprint a number": (edited(set_in("jobs.a.fingerprint", 7)), "fingerprint is 7"),
    "process a list": (edited(set_in("jobs.a.process", [1])), "process is a list"),
    "pid as text": (edited(set_in("jobs.a.process.pid", "42")), "process: pid is '42'"),
    "metrics a string": (edited(set_in("jobs.a.metrics", "big")), "metrics is 'big'"),
    "rss peak as text": (
        edited(set_in("jobs.a.metrics.rss.peak", "3 MB")),
        "metrics: rss: peak is '3 MB'",
    ),
    "stages an object": (edited(set_in("jobs.a.metrics.stages", {})), "stages is an object"),
    "a stage null": (edited(set_in("jobs.a.metrics.stages.0", None)), "stage 1: is null"),
    "leaks as text": (
        edited(set_in("jobs.a.metrics.leaks_swept.bmeshes", "0")),
        "leaks_swept: bmeshes is '0'",
    ),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, "not valid JSON (nested too deeply)"),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_damaged_checkpoint_is_moved_aside_with_the_reason(tmp_path, kind):
    raw, words = DAMAGE[kind]
    path = tmp_path / "checkpoint.json"
    path.write_bytes(raw)
    checkpoint = Checkpoint.open(path, HEADER)
    moved = checkpoint.moved_aside
    assert moved is not None and words in moved.reason
    assert moved.path == tmp_path / "checkpoint.corrupt-1.json"
    assert moved.path.read_bytes() == raw  # kept as it was
    assert checkpoint.jobs == {}
    # Killed before the new checkpoint is saved: the damaged one is still there, kept again.
    assert Checkpoint.open(path, HEADER).moved_aside.path.name == "checkpoint.corrupt-2.json"
    # The new checkpoint works: a plan, a run (which replaces the damaged file), a record.
    job = FakeJob("a", tmp_path / "a.blend")
    assert [j.id for j in checkpoint.plan([job]).pending] == ["a"]
    checkpoint.start_run(mode="in-process")
    assert json.loads(path.read_text())["format"] == "leanroute-batch-checkpoint"
    checkpoint.record({"id": "a", "status": "done", "finished_at": 2.0})
    again = Checkpoint.open(path, HEADER)
    assert again.moved_aside is None and again.jobs["a"]["status"] == "done"


@dataclass
class FakeJob:
    id: str
    out: Path
    fingerprint: str = "f1"


def test_extra_keys_are_not_damage(tmp_path):
    data = valid_checkpoint()
    data["note"] = "mine"
    data["jobs"]["a"]["comment"] = {"any": ["thing"]}
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(data))
    checkpoint = Checkpoint.open(path, HEADER)
    assert checkpoint.moved_aside is None
    assert checkpoint.jobs["a"]["comment"] == {"any": ["thing"]}


@pytest.mark.parametrize("kind", ["a folder", "a FIFO", "a link to nothing"])
def test_something_else_in_the_checkpoints_place_is_moved_aside(tmp_path, kind):
    path = tmp_path / "checkpoint.json"
    if kind == "a folder":
        path.mkdir()
        (path / "inside").write_text("kept")
    elif kind == "a FIFO":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(path)  # reading it would hang: it must not be opened
    else:
        path.symlink_to(tmp_path / "nowhere.json")
    checkpoint = Checkpoint.open(path, HEADER)
    assert {"a FIFO": "a named pipe (FIFO)"}.get(kind, kind) in checkpoint.moved_aside.reason
    assert os.path.lexists(tmp_path / "checkpoint.corrupt-1.json")
    if kind == "a folder":
        assert (tmp_path / "checkpoint.corrupt-1.json" / "inside").read_text() == "kept"


def test_earlier_damaged_checkpoints_are_never_overwritten(tmp_path):
    path = tmp_path / "checkpoint.json"
    journal = tmp_path / "checkpoint.journal.jsonl"
    (tmp_path / "checkpoint.corrupt-1.json").write_text("first")
    (tmp_path / "checkpoint.journal.corrupt-2.jsonl").write_text("second's journal")
    path.write_text("[]")
    journal.write_text('{"seq": 1, "record": {"id": "a", "status": "done"}}\n')
    checkpoint = Checkpoint.open(path, HEADER)
    assert checkpoint.moved_aside.path == tmp_path / "checkpoint.corrupt-3.json"
    assert (tmp_path / "checkpoint.journal.corrupt-3.jsonl").read_text().startswith('{"seq"')
    assert (tmp_path / "checkpoint.corrupt-1.json").read_text() == "first"
    checkpoint.start_run()
    assert not journal.exists() and checkpoint.jobs == {}


@pytest.mark.parametrize(
    "line",
    [
        b"[]",
        b"null",
        b'{"seq": "5", "record": {"id": "b", "status": "done"}}',
        b'{"seq": 5, "record": null}',
        b'{"seq": 5, "record": {"id": "b"}}',
        b'{"seq": 5, "record": {"id": "b", "status": "done", "attempts": "2"}}',
        b'{"seq": 5, "record": {"id": "b", "status": "done", "started_at": NaN}}',
        b'{"seq": 5}',
        b"\xff\xfe garbage",
        b'{"seq": 5, "record": {"id": "b", "sta',
    ],
)
def test_a_journal_line_of_the_wrong_shape_is_skipped_like_a_torn_one(tmp_path, line):
    path = tmp_path / "checkpoint.json"
    checkpoint = Checkpoint.open(path, HEADER)
    checkpoint.record({"id": "a", "status": "done"})
    good = b'{"seq": 9, "record": {"id": "c", "status": "failed"}}\n'
    checkpoint.journal_path.write_bytes(line + b"\n" + good)
    again = Checkpoint.open(path, HEADER)
    assert again.moved_aside is None
    assert set(again.jobs) == {"a", "c"}
    again.plan([FakeJob("a", tmp_path / "a.blend"), FakeJob("b", tmp_path / "b.blend")])


# -- the whole batch: the jobs whose outputs are complete are not run again ---------------


def run_batch(jobs, out, *options):
    return main(["batch", str(jobs), "--out", str(out), "--quiet", *options])


def builds(out) -> Counter:
    events = read_events(out / "leanroute-batch" / "events.jsonl")
    return Counter(e["id"] for e in events if e["event"] == "job_started")


@pytest.mark.parametrize(
    "damage",
    ["truncated", "binary garbage", "attempts as text", "jobs a list", "a record null"],
)
def test_a_batch_rebuilds_a_damaged_checkpoint_from_its_complete_outputs(
    factory_scene, tmp_path, capsys, damage
):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(4, cities=("lisbon",)))
    out = tmp_path / "out"
    assert run_batch(jobs, out) == 0
    state = out / "leanroute-batch"
    checkpoint = state / "checkpoint.json"
    good = json.loads(checkpoint.read_text())
    # The damage, applied to this batch's real checkpoint.
    if damage == "truncated":
        raw = checkpoint.read_bytes()[:300]
    elif damage == "binary garbage":
        raw = random.Random(19).randbytes(2000)
    else:
        change = {
            "attempts as text": set_in("jobs.lisbon-02.attempts", "1"),
            "jobs a list": set_in("jobs", list(good["jobs"].values())),
            "a record null": set_in("jobs.lisbon-03", None),
        }[damage]
        change(good)
        raw = json.dumps(good).encode()
    checkpoint.write_bytes(raw)
    # Job 2's output is gone, job 3's is not a .blend any more: only those two run again.
    (out / "lisbon-02.blend").unlink()
    (out / "lisbon-03.blend").write_bytes(b"not a blend")
    capsys.readouterr()

    assert run_batch(jobs, out) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1, err
    assert warnings[0].startswith(f"leanroute: warning: {checkpoint}: ")
    assert f"moved it to {state / 'checkpoint.corrupt-1.json'}" in warnings[0]
    assert warnings[0].endswith("rebuilt it from the outputs: 2 of 4 jobs verifiably done")
    assert "Traceback" not in err and "Error" not in err
    assert (state / "checkpoint.corrupt-1.json").read_bytes() == raw
    assert builds(out) == {"lisbon-01": 1, "lisbon-02": 2, "lisbon-03": 2, "lisbon-04": 1}
    records = json.loads(checkpoint.read_text())["jobs"]
    assert {r["status"] for r in records.values()} == {"done"}
    assert records["lisbon-01"]["recovered"] is True
    assert "job report" in records["lisbon-01"]["evidence"]
    rebuilt = [e for e in read_events(state / "events.jsonl") if e["event"] == "checkpoint_rebuilt"]
    assert rebuilt[0]["recovered"] == ["lisbon-01", "lisbon-04"]
    assert all(p.read_bytes()[:7] == b"BLENDER" for p in out.glob("*.blend"))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_a_checkpoint_that_cannot_be_read_is_one_clear_line(factory_scene):
    # Outside pytest's private tmp folders, so the ordinary user the batch runs as reaches it.
    base = Path(tempfile.mkdtemp(prefix="leanroute-unreadable-"))
    try:
        jobs = write_csv(base / "jobs.csv", job_rows(1, cities=("lisbon",)))
        out = base / "out"
        assert run_batch(jobs, out) == 0
        open_to_everyone(base)
        checkpoint = out / "leanroute-batch" / "checkpoint.json"
        checkpoint.chmod(0)
        command = [sys.executable, "-m", "leanroute", "batch", "jobs.csv", "--out", "out"]
        run = as_unprivileged([*command, "--quiet"], base)
        assert run.returncode == 1, run.stderr
        assert run.stderr.strip().splitlines() == [
            f"leanroute: error: {checkpoint}: cannot read the checkpoint "
            "(Permission denied); check its permissions"
        ]
    finally:
        shutil.rmtree(base)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"batch": {}, "jobs": [1]}', "jobs: record 1: the record is 1, not an object"),
        ('{"batch": [], "jobs": []}', "batch is a list, not an object"),
        ('{"batch": {}, "jobs": {}}', "jobs is an object, not a list"),
        (
            '{"batch": {}, "jobs": [{"id": "a", "status": "done", "metrics": {"rss": '
            '{"peak": "9 MB"}}}]}',
            "job 'a': metrics: rss: peak is '9 MB' (text)",
        ),
        ('{"batch": {}, "jobs": [{"id": "a", "status": "done", "attempts": NaN}]}', "NaN"),
    ],
)
def test_a_hand_edited_report_to_compare_to_is_one_clear_line(tmp_path, capsys, text, words):
    report = tmp_path / "report.json"
    report.write_text(text)
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(1))
    code = main(["batch", str(jobs), "--out", str(tmp_path / "out"), "--compare-to", str(report)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1, err
    assert err[0].startswith("leanroute: error: --compare-to: ") and words in err[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("events.jsonl", os.mkfifo, "is not a regular file"),
        ("events.jsonl", os.mkdir, "is a folder"),
        ("lock", os.mkfifo, "it is not a regular file (a FIFO, a device?), but it should be"),
        ("lock", os.mkdir, "it is a folder, but it should be the batch's lock file"),
        ("claims/lisbon-01.claim", os.mkdir, "claim file of job 'lisbon-01'"),
        ("claims/lisbon-01.claim", os.mkfifo, "is not a regular file"),
    ],
)
def test_something_else_in_place_of_a_state_file_is_one_line_not_a_hang(
    factory_scene, tmp_path, capsys, name, make, words
):
    out = tmp_path / "out"
    (out / "leanroute-batch" / "claims").mkdir(parents=True)
    make(out / "leanroute-batch" / name)
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(1, cities=("lisbon",)))
    assert run_batch(jobs, out) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0] and "move it away" in err[0], err
    assert str(out / "leanroute-batch" / name) in err[0]
    assert not (out / "lisbon-01.blend").exists()


STATE_FILES = (
    "checkpoint.json", "checkpoint.journal.jsonl", "events.jsonl", "lock", "report.json",
    "memory-timeline.svg", "jobs/lisbon-01.json", "logs/in-process.log", "claims/lisbon-01.claim",
)  # fmt: skip


@pytest.mark.skipif(sys.platform == "win32", reason="links need privileges on Windows")
@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
@pytest.mark.parametrize("name", STATE_FILES)
def test_a_link_in_the_state_folder_never_leads_a_write_into_another_file(
    factory_scene, tmp_path, capsys, name, kind
):
    rows = job_rows(1, cities=("lisbon",))
    victim = tmp_path / "victim.osm"  # the job's input, by a name of its own
    victim.write_bytes(Path(rows[0]["osm"]).read_bytes())
    rows[0]["osm"] = str(victim)
    before = victim.read_bytes()
    out = tmp_path / "out"
    for folder in ("jobs", "logs", "claims"):
        (out / "leanroute-batch" / folder).mkdir(parents=True)
    link = out / "leanroute-batch" / name
    link.symlink_to(victim) if kind == "symlink" else os.link(victim, link)
    jobs = write_csv(tmp_path / "jobs.csv", rows)
    code = run_batch(jobs, out)
    err = capsys.readouterr().err
    assert victim.read_bytes() == before  # never written through the link
    assert code in (0, 1) and "Traceback" not in err and "Error:" not in err
    if code == 1:
        errors = [line for line in err.splitlines() if line.startswith("leanroute: error:")]
        assert len(errors) <= 1 and (not errors or str(link) in errors[0]), err
