# SPDX-License-Identifier: GPL-3.0-or-later
"""Memory growth across a batch's jobs, and what hygiene saved against a no-hygiene run.

Growth is measured on each job's settled ``after`` figure (after the job and the
between-jobs cleanup), within one process only: a new process starts from scratch, so
its figures say nothing about the previous one's growth. The first job of a process is
kept apart as the warm-up (imports, caches, allocator arenas), which is not a leak.
Plain Python: no bpy.
"""

from itertools import pairwise

from ..memory.units import MIB

METRICS = ("rss", "blender")
_LABELS = {"rss": "RSS after each job", "blender": "Blender allocator"}


def _figures(record: dict, metric: str) -> dict:
    """``{"before", "peak", "after"}`` of *metric* in *record*; {} when absent."""
    return (record.get("metrics") or {}).get(metric) or {}


def _pid(record: dict):
    return (record.get("process") or {}).get("pid")


def _sequence(record: dict):
    return (record.get("process") or {}).get("sequence")


def _run(record: dict):
    return (record.get("process") or {}).get("run")


def starts_new_process(previous: "dict | None", record: dict) -> bool:
    """True when *record* ran in another process than *previous* (the record before it).

    Another run id (unique per process start, even when ``exec`` keeps the pid), a changed
    pid, or a pid seen again with its job sequence starting over (the OS reuses pids).
    Records without a pid (a job that never started) start nothing.
    """
    if previous is None or _pid(record) is None or _pid(previous) is None:
        return False
    if _run(record) is not None and _run(previous) is not None and _run(record) != _run(previous):
        return True
    if _pid(record) != _pid(previous):
        return True
    seq, prev_seq = _sequence(record), _sequence(previous)
    return seq is not None and prev_seq is not None and seq <= prev_seq


def process_runs(records: "list[dict]") -> "list[list[dict]]":
    """*records* split into runs of consecutive jobs of one process, in run order."""
    runs: list[list[dict]] = []
    for record in records:
        if not runs or starts_new_process(runs[-1][-1], record):
            runs.append([])
        runs[-1].append(record)
    return runs


def done_records(records: "list[dict]") -> "list[dict]":
    """The records of jobs that finished and have metrics."""
    return [r for r in records if r.get("status") == "done" and r.get("metrics")]


def _slope(points: "list[tuple[int, float]]") -> "float | None":
    """Least-squares slope of (index, value) points; None for fewer than two."""
    n = len(points)
    if n < 2:
        return None
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx


def _difference(a, b):
    return None if a is None or b is None else b - a


def _metric_growth(measured: "list[dict]", every: "list[dict]", metric: str) -> dict:
    figures = [_figures(r, metric) for r in measured]
    afters = [f.get("after") for f in figures]
    first_job = _difference(figures[0].get("before"), afters[0]) if figures else None
    if len(figures) >= 3:
        # From the 2nd job on: the warm-up of the first job would tilt the line.
        per_job = _slope([(k, v) for k, v in enumerate(afters) if k and v is not None])
    elif len(figures) == 2:
        steps = [b - a for a, b in pairwise(afters) if a is not None and b is not None]
        per_job = sum(steps) / len(steps) if steps else None
    else:
        per_job = None
    peaks = [_figures(r, metric).get("peak") for r in every]
    peaks = [p for p in peaks if p is not None]
    return {
        "first_job": first_job,
        "per_job": per_job,
        "per_job_vs_first": (
            per_job / first_job if per_job is not None and first_job and first_job > 0 else None
        ),
        "total": _difference(figures[0].get("before"), afters[-1]) if figures else None,
        "peak": max(peaks) if peaks else None,
        "first_after": afters[0] if afters else None,
        "last_after": afters[-1] if afters else None,
    }


def memory_growth(records: "list[dict]") -> dict:
    """Growth of RSS and Blender's allocator per job, over the finished jobs of *records*.

    Runs are split by process; the longest run (first on ties) is the one measured.
    ``per_job`` is the least-squares slope of ``after`` from its 2nd job on (bytes/job),
    ``first_job`` the warm-up of its first job, ``peak`` the highest over all jobs.
    """
    done = done_records(records)
    runs = process_runs(done)
    measured = max(runs, key=len) if runs else []  # max() keeps the first of equals
    summary = {
        "jobs": len(done),
        "processes": len(runs),
        "measured_jobs": len(measured),
        "measured_pid": _pid(measured[0]) if measured else None,
    }
    for metric in METRICS:
        summary[metric] = _metric_growth(measured, done, metric)
    return summary


def _mb(value: "float | None") -> "float | None":
    """Bytes as decimal MB (1e6 bytes), to 0.01."""
    return None if value is None else round(value / 1e6, 2)


def compare(summary: dict, baseline_summary: dict) -> dict:
    """Memory hygiene saved against a no-hygiene *baseline_summary*, in MB (1e6 bytes).

    Positive means the hygiene run used less. ``memory_usage_reduction_mb`` is the RSS one.
    """
    result = {}
    for metric in METRICS:
        ours, theirs = summary.get(metric) or {}, baseline_summary.get(metric) or {}
        result[metric] = {
            name: _mb(_difference(ours.get(key), theirs.get(key)))
            for name, key in (
                ("peak", "peak"),
                ("growth_per_job", "per_job"),
                ("total_growth", "total"),
            )
        }
    return {"memory_usage_reduction_mb": dict(result["rss"]), **result}


def compare_reports(report: dict, baseline_report: dict) -> dict:
    """:func:`compare` of two batch reports, on the jobs both ran; says what does not match."""
    warnings = []
    if (baseline_report.get("batch") or {}).get("hygiene") is not False:
        warnings.append("the baseline report is not a --no-hygiene run")
    if (report.get("batch") or {}).get("hygiene") is False:
        warnings.append("this report is itself a --no-hygiene run")
    jobs, baseline_jobs = report.get("jobs") or [], baseline_report.get("jobs") or []
    ids = {r.get("id") for r in jobs}
    baseline_ids = {r.get("id") for r in baseline_jobs}
    common = ids & baseline_ids
    differ = len(ids ^ baseline_ids)
    if differ:
        warnings.append(
            f"{differ} job id{'s' if differ != 1 else ''} in only one of the reports: "
            f"compared the {len(common)} both ran"
        )
        jobs = [r for r in jobs if r.get("id") in common]
        baseline_jobs = [r for r in baseline_jobs if r.get("id") in common]
    result = compare(memory_growth(jobs), memory_growth(baseline_jobs))
    result["jobs_compared"] = len(common)
    if warnings:
        result["warning"] = "; ".join(warnings)
    return result


def _mib(value: "float | None", *, signed: bool = False, digits: int = 1) -> str:
    """``"+0.1 MiB"`` style; ``"n/a"`` for None. Always MiB, so lines compare at a glance."""
    if value is None:
        return "n/a"
    figure = round(value / MIB, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{figure:{'+' if signed else ''}.{digits}f} MiB"


def _growth_line(summary: dict, metric: str) -> str:
    growth = summary.get(metric) or {}
    k, processes = summary.get("measured_jobs", 0), summary.get("processes", 0)
    first = f"first job {_mib(growth.get('first_job'), signed=True)}"
    if k < 2 and processes > 1:
        return f"memory: {_LABELS[metric]}: one job per process, nothing to grow across ({first})"
    if k < 2:
        return f"memory: {_LABELS[metric]}: one job: no growth figure ({first})"
    per_job = growth.get("per_job")
    where = ""
    if metric == "rss":
        where = f" over jobs {2 if k >= 3 else 1}-{k}"
        if processes > 1:
            where += f" of the longest of {processes} processes"
        first += " warm-up"
        ratio = growth.get("per_job_vs_first")
        if ratio is not None:
            first += f"; {ratio * 100:.1f} % of it"
    per_job_text = "n/a" if per_job is None else f"{_mib(per_job, signed=True)}/job"
    return f"memory: {_LABELS[metric]} {per_job_text}{where} ({first})"


def summary_lines(summary: dict, comparison: "dict | None" = None) -> "list[str]":
    """Memory lines for the end of a batch: growth per job, peak and, given, the savings."""
    if not summary.get("jobs"):
        lines = ["memory: no finished jobs, no memory figures"]
    else:
        lines = [_growth_line(summary, metric) for metric in METRICS]
        peak = f"memory: peak RSS {_mib((summary.get('rss') or {}).get('peak'), digits=0)}"
        blender_peak = (summary.get("blender") or {}).get("peak")
        if blender_peak is not None:
            peak += f" (Blender allocator {_mib(blender_peak, digits=0)})"
        lines.append(peak)
    if comparison:
        saved = comparison.get("memory_usage_reduction_mb") or {}

        def mb(key: str) -> str:
            value = saved.get(key)
            return "n/a" if value is None else f"{value:.1f} MB"

        growth = saved.get("growth_per_job")
        lines.append(
            f"memory saved vs no-hygiene baseline: peak {mb('peak')}, "
            f"growth {'n/a' if growth is None else f'{growth:.1f} MB/job'}, "
            f"total growth {mb('total_growth')}"
        )
        if comparison.get("warning"):
            lines.append(f"memory comparison warning: {comparison['warning']}")
    return lines
