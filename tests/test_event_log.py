"""The batch's JSON-lines event log (plain Python)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leanroute.progress.event_log import EventLog, read_events


def test_lines_round_trip(tmp_path):
    path = tmp_path / "logs" / "events.jsonl"  # the folder is created
    before = time.time()
    with EventLog(path) as log:
        first = log.write("job_started", id="krems-01", row=1)
        second = log.write("job_done", fsync=True, id="krems-01", out=Path("/out/a.blend"))
    assert log.closed
    events = read_events(path)
    assert events == [first, {**second, "out": "/out/a.blend"}]
    assert list(first) == ["time", "event", "pid", "id", "row"]
    assert first["event"] == "job_started"
    assert first["pid"] == os.getpid()
    assert before - 1 <= first["time"] <= time.time() + 1
    assert first["time"] == round(first["time"], 3)
    assert "fsync" not in second


def test_one_line_per_event_and_appends_to_an_existing_log(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventLog(path) as log:
        log.write("a")
    with EventLog(path) as log:
        log.write("b", text="two\nlines")
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert [json.loads(line)["event"] for line in lines] == ["a", "b"]
    assert read_events(path)[1]["text"] == "two\nlines"


def test_a_truncated_last_line_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventLog(path) as log:
        log.write("a")
        log.write("b")
    with path.open("a") as f:
        f.write('\n\n{"time": 1.0, "event": "job_do')  # killed mid-write
    assert [e["event"] for e in read_events(path)] == ["a", "b"]


def test_a_garbled_line_does_not_hide_the_rest(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"event": "a"}\n\xff\xfe{garbage\n[1, 2]\n{"event": "b"}\n')
    assert [e["event"] for e in read_events(path)] == ["a", "b"]


def test_a_missing_file_has_no_events(tmp_path):
    assert read_events(tmp_path / "nope.jsonl") == []


def test_two_logs_on_one_file_interleave_whole_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventLog(path) as one, EventLog(path) as two:
        for i in range(50):
            one.write("tick", who="one", i=i, pad="x" * 500)
            two.write("tick", who="two", i=i, pad="y" * 500)
    events = read_events(path)
    assert len(path.read_text().splitlines()) == 100
    assert len(events) == 100
    assert [e["i"] for e in events if e["who"] == "one"] == list(range(50))
    assert [e["i"] for e in events if e["who"] == "two"] == list(range(50))
    assert [e["who"] for e in events[:4]] == ["one", "two", "one", "two"]


_WRITER = """
import sys
from leanroute.progress.event_log import EventLog
with EventLog(sys.argv[1]) as log:
    for i in range(200):
        log.write("tick", i=i, pad="z" * 300)
"""


def test_two_processes_append_whole_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path)]) for _ in range(2)]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    events = read_events(path)
    assert len(path.read_text().splitlines()) == 400
    assert {e["pid"] for e in events} == {w.pid for w in writers}
    for writer in writers:
        assert [e["i"] for e in events if e["pid"] == writer.pid] == list(range(200))


def test_writing_to_a_closed_log_fails(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    log.close()
    log.close()  # twice is fine
    with pytest.raises(ValueError, match="closed"):
        log.write("late")


def test_a_line_torn_by_a_kill_does_not_swallow_the_next_one(tmp_path, monkeypatch):
    from leanroute.progress import checkpoint as module

    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"event": "job_done", "id": "a"}\n{"event": "job_do')  # killed mid-line
    with EventLog(path) as log:
        log.write("batch_started")
    assert [e["event"] for e in read_events(path)] == ["job_done", "batch_started"]
    # The same for the checkpoint's journal (a large checkpoint appends its changes there).
    monkeypatch.setattr(module, "SNAPSHOT_LIMIT", 0)
    checkpoint = module.Checkpoint.open(tmp_path / "c.json", {})
    checkpoint.start_run()
    checkpoint.journal_path.write_bytes(b'{"seq": 1, "record": {"id": "a", "sta')
    checkpoint.record({"id": "b", "status": "done"})
    assert set(module.Checkpoint.open(tmp_path / "c.json", {}).jobs) == {"b"}
