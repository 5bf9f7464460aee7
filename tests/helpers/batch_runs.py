"""Batches run as their own processes, killed and resumed, and what they leave (for tests).

A batch is started the way a user or a farm starts it (the bpy module through
cli/blender_script.py). ``LEANROUTE_TEST_KILL`` (route/kill_points.py) makes it SIGKILL
itself at a named moment; :func:`check_finished` asserts everything a finished batch owes,
however many kills it went through.
"""

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from helpers.paths import REPO_ROOT
from leanroute.batch.job_evidence import job_report_matches
from leanroute.progress.event_log import read_events
from leanroute.route.atomic_files import temporary_of

SCRIPT = REPO_ROOT / "cli" / "blender_script.py"
KILL = "LEANROUTE_TEST_KILL"


def command(jobs, out, *options) -> list[str]:
    """The command line of a batch of *jobs* into *out*."""
    return [sys.executable, str(SCRIPT), "--", "batch", str(jobs), "--out", str(out), *options]


def environment(kill: "str | None" = None) -> dict:
    """The environment for a batch: ours, with the kill hook set to *kill* (or unset)."""
    env = {key: value for key, value in os.environ.items() if key != KILL}
    if kill:
        env[KILL] = kill
    return env


def run(jobs, out, *options, kill: "str | None" = None) -> subprocess.CompletedProcess:
    """Run a batch to its end (or to its kill)."""
    return subprocess.run(
        command(jobs, out, "--quiet", *options),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=environment(kill),
    )


def start(jobs, out, *options, kill: "str | None" = None) -> subprocess.Popen:
    """Start a batch and return at once."""
    return subprocess.Popen(
        command(jobs, out, "--quiet", *options),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=environment(kill),
    )


def killed(result) -> bool:
    """True when the process ended by SIGKILL."""
    return result.returncode == -signal.SIGKILL


def temporaries(out: Path) -> list[Path]:
    """Every temporary (LeanRoute's or Blender's ``@``) anywhere under *out*."""
    found = []
    for folder, _, files in os.walk(out):
        found += [Path(folder) / name for name in files if temporary_of(name) or name[-1] == "@"]
    return sorted(found)


def all_events(out: Path) -> list[dict]:
    """The events of every batch and shard that wrote to *out*."""
    events = []
    for path in sorted((out / "leanroute-batch").glob("events*.jsonl")):
        events += read_events(path)
    return events


def checkpoint_records(out: Path, name: str = "checkpoint.json") -> dict:
    """The job records of the checkpoint *name* in *out*'s state folder, by id."""
    return json.loads((out / "leanroute-batch" / name).read_text())["jobs"]


def completions(out: Path) -> Counter:
    """Per job: how often a run finished it (``job_done``) or found it finished (recovered)."""
    counts = Counter()
    for event in all_events(out):
        if event["event"] == "job_done":
            counts[event["id"]] += 1
        elif event["event"] == "batch_started":
            counts.update(event.get("recovered") or [])
    return counts


def check_finished(out: Path, jobs: list, checkpoints=("checkpoint.json",)) -> None:
    """Assert what a batch owes once it has finished, whatever kills it went through.

    Every job done exactly once and never started again after that; no temporary anywhere
    under *out*; every job report present and made for its job; every output a .blend.
    """
    assert temporaries(out) == [], "temporaries left behind"
    finished: dict[str, int] = {}
    for index, event in enumerate(all_events(out)):
        if event["event"] == "job_done" or (
            event["event"] == "job_adopted" and event["status"] == "done"
        ):
            finished.setdefault(event["id"], index)
        elif event["event"] == "batch_started":
            for job_id in event.get("recovered") or []:
                finished.setdefault(job_id, index)
        elif event["event"] == "job_started" and event["id"] in finished:
            raise AssertionError(f"{event['id']} was started again after it was done")
    counts = completions(out)
    assert {job.id: counts[job.id] for job in jobs} == {job.id: 1 for job in jobs}
    records = {}
    for name in checkpoints:
        records.update(checkpoint_records(out, name))
    assert {job.id: records[job.id]["status"] for job in jobs} == {job.id: "done" for job in jobs}
    for job in jobs:
        assert Path(job.out).read_bytes()[:7] == b"BLENDER", job.out
        report = out / "leanroute-batch" / "jobs" / f"{job.id}.json"
        assert job_report_matches(report, job), f"{report} is missing or not {job.id}'s"
