"""Checks of a batch checkpoint's and report's structure before anything uses it (no bpy).

The checkpoint is a JSON file a user can edit by hand (or a disk can damage): a list where
an object belongs, a count written as text, a missing key, ``NaN`` or ``1e999`` would
otherwise surface much later as a Python exception in code that trusts the file. Each check
returns a short description of the first problem found ("job 'a': attempts is '3' (text),
not a whole number"), or None when the data has the expected shape. Extra keys are fine:
newer versions may add some.
"""

import math

#: A job record's status.
STATUSES = ("done", "failed", "running")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return f"{value[:40]!r} (text)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return repr(value)


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) < 1e300
    )


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def _field_problem(name: str, value: object, kind: str) -> "str | None":
    """None when *value* is of *kind*; else what is wrong with it."""
    checks = {
        "text": (lambda v: isinstance(v, str), "text"),
        "count": (_is_count, "a whole number from 0"),
        "number": (_is_number, "a finite number"),
        "number?": (lambda v: v is None or _is_number(v), "a finite number or null"),
        "count?": (lambda v: v is None or _is_count(v), "a whole number or null"),
        "flag": (lambda v: isinstance(v, bool), "true or false"),
        "object": (lambda v: isinstance(v, dict), "an object"),
        "list": (lambda v: isinstance(v, list), "a list"),
    }
    test, wanted = checks[kind]
    return None if test(value) else f"{name} is {_kind(value)}, not {wanted}"


def _fields_problem(data: dict, kinds: dict, where: str) -> "str | None":
    for name, kind in kinds.items():
        if name in data:
            problem = _field_problem(name, data[name], kind)
            if problem:
                return f"{where}{problem}"
    return None


_TRIPLE = {"before": "number?", "peak": "number?", "after": "number?"}
_RECORD = {
    "id": "text",
    "status": "text",
    "fingerprint": "text",
    "reason": "text",
    "out": "text",
    "row": "count",
    "attempts": "count",
    "started_at": "number?",
    "finished_at": "number?",
    "process": "object",
    "metrics": "object",
    "recovered": "flag",
    "out_bytes": "count?",
}
_PROCESS = {"pid": "count?", "sequence": "count?", "run": "text"}
_METRICS = {
    "seconds": "number?",
    "rss": "object",
    "blender": "object",
    "leaks_swept": "object",
    "stages": "list",
}
_STAGE = {
    "name": "text",
    "status": "text",
    "seconds": "number?",
    "rss": "object",
    "blender": "object",
}


def _figures_problem(holder: dict, where: str) -> "str | None":
    for metric in ("rss", "blender"):
        if isinstance(holder.get(metric), dict):
            problem = _fields_problem(holder[metric], _TRIPLE, f"{where}{metric}: ")
            if problem:
                return problem
    return None


def _metrics_problem(metrics: dict, where: str) -> "str | None":
    problem = _fields_problem(metrics, _METRICS, where) or _figures_problem(metrics, where)
    if problem:
        return problem
    for name, count in (metrics.get("leaks_swept") or {}).items():
        if not _is_count(count):
            return f"{where}leaks_swept: {name} is {_kind(count)}, not a whole number from 0"
    for number, stage in enumerate(metrics.get("stages") or [], start=1):
        here = f"{where}stage {number}: "
        if not isinstance(stage, dict):
            return f"{here}is {_kind(stage)}, not an object"
        problem = _fields_problem(stage, _STAGE, here) or _figures_problem(stage, here)
        if problem:
            return problem
    return None


def record_problem(record: object, key: "str | None" = None) -> "str | None":
    """What is wrong with one job record (a checkpoint's or a report's), or None.

    *key* is the id the checkpoint files the record under; the record's own id must match.
    """
    where = f"job {key!r}: " if key is not None else ""
    problem = _record_shape_problem(record, where)
    if problem:
        return problem
    where = f"job {record['id']!r}: "
    if key is not None and record["id"] != key:
        return f"{where}filed under the id {key!r}"
    if record["status"] not in STATUSES:
        return f"{where}status is {record['status']!r}, not one of {', '.join(STATUSES)}"
    problem = _fields_problem(record.get("process") or {}, _PROCESS, f"{where}process: ")
    return problem or _metrics_problem(record.get("metrics") or {}, f"{where}metrics: ")


def _record_shape_problem(record: object, where: str) -> "str | None":
    """The record is an object, has an id and a status, and its fields have their types."""
    if not isinstance(record, dict):
        return f"{where}the record is {_kind(record)}, not an object"
    for required in ("id", "status"):
        if required not in record:
            return f"{where}the record has no {required!r}"
    return _fields_problem(record, _RECORD, where)


_HEADER = {
    "format": "text",
    "version": "count",
    "jobs_file": "text",
    "out_dir": "text",
    "shard": "text",
    "runs": "list",
    "seq": "count",
    "updated": "number?",
    "jobs": "object",
}


def checkpoint_problem(data: object) -> "str | None":
    """What is wrong with a checkpoint's whole structure (read from JSON), or None."""
    if not isinstance(data, dict):
        return f"the file holds {_kind(data)}, not a JSON object"
    problem = _fields_problem(data, _HEADER, "")
    if problem:
        return problem
    for number, run in enumerate(data.get("runs") or [], start=1):
        if not isinstance(run, dict):
            return f"runs: run {number} is {_kind(run)}, not an object"
        problem = _fields_problem(run, {"started": "number?", "pid": "count?"}, f"run {number}: ")
        if problem:
            return problem
    for key, record in (data.get("jobs") or {}).items():
        problem = record_problem(record, key)
        if problem:
            return problem
    return None


def report_problem(data: object) -> "str | None":
    """What keeps *data* (read from JSON) from being a batch report, or None."""
    if not isinstance(data, dict):
        return f"the file holds {_kind(data)}, not a JSON object"
    for key in ("batch", "jobs"):
        if key not in data:
            return f"it has no {key!r}"
    problem = _fields_problem(data, {"batch": "object", "jobs": "list", "summary": "object"}, "")
    if problem:
        return problem
    for number, record in enumerate(data["jobs"], start=1):
        problem = record_problem(record)
        if problem:
            return f"jobs: record {number}: {problem}"
    return None


def journal_change_problem(change: object) -> "str | None":
    """What is wrong with one line of a checkpoint journal (``{"seq", "record"}``), or None."""
    if not isinstance(change, dict):
        return f"the line holds {_kind(change)}, not an object"
    problem = _field_problem("seq", change.get("seq"), "count")
    if problem:
        return problem
    return record_problem(change.get("record"))
