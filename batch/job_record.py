"""A job's record for the checkpoint and the batch report, from its memory report (no bpy).

The record format is described in docs/batch.md: status, reason, attempts, times, the
process that ran it, the output, and metrics (seconds; RSS and Blender's allocator before,
at peak and after the between-jobs cleanup; leaks swept; the same per stage).
"""

import os


def new_record(job, *, attempt: int, started_at: float, process: dict) -> dict:
    """The record of a job that starts now (status "running")."""
    return {
        "id": job.id,
        "row": job.row,
        "fingerprint": job.fingerprint,
        "status": "running",
        "reason": "",
        "attempts": attempt,
        "started_at": round(started_at, 3),
        "finished_at": None,
        "process": dict(process),
        "out": str(job.out),
        "metrics": {},
    }


def _triple(before, peak, after) -> dict:
    return {"before": before, "peak": peak, "after": after}


def _max(values) -> "int | None":
    present = [v for v in values if v is not None]
    return max(present) if present else None


def stage_metrics(stage: dict) -> dict:
    """Seconds, RSS and allocator before/peak/after of one stage of a PipelineReport dict."""
    before, peak, after = stage["before"], stage["peak"], stage["after"]
    return {
        "name": stage["name"],
        "status": stage.get("status", "ok"),
        "seconds": round(stage.get("wall_seconds", 0.0), 4),
        "rss": _triple(before.get("rss"), peak.get("rss"), after.get("rss")),
        "blender": _triple(before.get("blender"), peak.get("blender"), after.get("blender")),
    }


def job_metrics(
    report: dict, *, seconds: float, before: dict, after: dict, orphans_between: int = 0
) -> dict:
    """Job-level metrics from its pipeline report (a dict) and the settled figures around it.

    *before* and *after* are ``{"rss": bytes, "blender": bytes}`` measured before the job
    and after the between-jobs cleanup; *orphans_between* counts what that cleanup found.
    """
    stages = [stage_metrics(stage) for stage in report.get("stages", [])]
    bmeshes = sum(
        stage.get("bmeshes", {}).get("swept", 0)
        + stage.get("bmeshes", {}).get("untracked_swept", 0)
        for stage in report.get("stages", [])
    )
    orphans = orphans_between + sum(
        sum(stage.get("cleanup", {}).get("orphans_removed", {}).values())
        for stage in report.get("stages", [])
    )
    metrics = {"seconds": round(seconds, 4)}
    for key in ("rss", "blender"):
        peaks = [stage[key]["peak"] for stage in stages] + [stage[key]["after"] for stage in stages]
        metrics[key] = _triple(before.get(key), _max([*peaks, before.get(key)]), after.get(key))
    metrics["leaks_swept"] = {"bmeshes": bmeshes, "orphans": orphans}
    metrics["stages"] = stages
    return metrics


def finish_record(record: dict, *, status: str, finished_at: float, reason: str = "", metrics=None):
    """Fill in how a job ended; adds the output's size when it exists."""
    record.update(status=status, reason=reason, finished_at=round(finished_at, 3))
    if metrics is not None:
        record["metrics"] = metrics
    if status == "done":
        try:
            record["out_bytes"] = os.path.getsize(record["out"])
        except OSError:
            record["out_bytes"] = None
    return record
