"""What proves a job's output complete when its checkpoint record is lost (no bpy).

A checkpoint can lose records: it was damaged and moved aside, or a kill came between the
output's rename and the record, or another batch sharing ``--out`` (a shard) ran the job.
A job counts as finished without running again only on evidence:

- its ``.blend`` is a regular file that starts with Blender's header, and
- its job report (``jobs/<id>.json``) was made with this job's settings and gives the
  output's size, or its claim history (:mod:`.job_claims`) says a run with this job's
  fingerprint finished it, or was running it when the output was renamed into place.

A job report that a kill skipped is written again from what is known
(:func:`write_recovered_report`): the output and the settings, not the lost memory figures.
"""

import json
import os
import stat
from pathlib import Path

from ..progress.checkpoint import output_landed
from ..route.atomic_files import write_text_atomic

#: Every .blend file starts with these bytes (LeanRoute saves uncompressed).
BLEND_MAGIC = b"BLENDER"


def blend_complete(path: Path) -> bool:
    """True when *path* is a regular file that starts with Blender's header."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as handle:
            return handle.read(len(BLEND_MAGIC)) == BLEND_MAGIC
    except OSError:
        return False


def _normal(data: dict) -> dict:
    """*data* as JSON would give it back, without the report path (not part of the output)."""
    data = json.loads(json.dumps(data, default=str))
    data.pop("report", None)
    return data


def job_report_matches(path: Path, job) -> bool:
    """True when the job report at *path* was written for *job*'s settings and its output.

    The report gives the size of the .blend it went with: the output on disk must have it
    (a later build of other settings, killed before its report, replaced the .blend).
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        build, out = data["settings"]["build"], data["results"]["out"]
    except (OSError, ValueError, RecursionError, KeyError, TypeError):
        return False
    if not isinstance(build, dict) or not isinstance(out, dict):
        return False
    same_output = out.get("bytes") is None or out.get("bytes") == _size(job.out)
    return same_output and _normal(build) == _normal(job.settings.to_dict())


def _mtime(path: Path) -> "float | None":
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def _size(path: Path) -> "int | None":
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def _number(value) -> "float | None":
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def complete_output(job, report_path: Path, history: "list[dict]") -> "str | None":
    """How we know *job*'s output is complete and built with its settings, or None.

    The newest claim line decides which settings the output was last built with: another
    fingerprint there means a later build (perhaps killed) replaced it. A job report vouches
    for the output when it names this job's settings and the output's size.
    """
    out = Path(job.out)
    if not blend_complete(out):
        return None
    last = history[-1] if history else None
    if last is not None and last.get("fingerprint") != job.fingerprint:
        return None
    if job_report_matches(report_path, job):
        return "its .blend and its job report are in place"
    return _history_vouches(last, out, _mtime(out)) if last is not None else None


def _history_vouches(last: dict, out: Path, written: float) -> "str | None":
    """How the newest claim line proves *out* complete (written at *written*), or None."""
    started, finished = _number(last.get("started_at")), _number(last.get("finished_at"))
    if (
        last["status"] == "done"
        and last.get("out_bytes") == _size(out)
        and (started is None or written >= started)
        and (finished is None or written <= finished)
    ):
        return f"{last.get('by', 'another run')} finished it"
    if last["status"] == "running" and output_landed(out, started):
        return "its .blend was renamed into place after the job started"
    return None


def settled_elsewhere(
    job, history: "list[dict]", report_path: Path, *, since: float, retry_failed: bool
) -> "dict | None":
    """How another run settled *job*, if it did: ``{"status", "reason", "by", "how"}``, else None.

    A failure counts unless failed jobs are retried and it happened before *since* (this
    run's start): a failure from while this run was going is not run again.
    """
    last = history[-1] if history else None
    if last is None or last.get("fingerprint") != job.fingerprint:
        return None
    by = str(last.get("by", "another run"))
    if last["status"] in ("done", "running"):
        how = complete_output(job, report_path, history)
        return {"status": "done", "reason": "", "by": by, "how": how} if how else None
    if last["status"] == "failed":
        finished = _number(last.get("finished_at")) or 0.0
        if retry_failed and finished < since:
            return None
        return {"status": "failed", "reason": str(last.get("reason", "")), "by": by, "how": ""}
    return None


def write_recovered_report(path: Path, job, how: str) -> None:
    """Write *job*'s report again after a kill skipped it: its settings and its output."""
    out = Path(job.out)
    report = {
        "name": f"build {Path(job.settings.osm).name}",
        "recovered": True,
        "note": (
            f"written when the batch resumed: {how}, but the process was stopped before "
            "the job's memory report was written; its figures are lost"
        ),
        "stages": [],
        "settings": {"build": {**job.settings.to_dict(), "report": str(path)}},
        "results": {"out": {"path": str(out), "bytes": _size(out)}},
    }
    write_text_atomic(path, json.dumps(report, indent=1, default=str))
