"""Before a (resumed) batch runs: clear what a kill left and put back what it skipped (no bpy).

A ``kill -9`` can land anywhere. What it leaves behind, and what this module does about it:

- temporaries: an output's ``.<stem>.tmp-<pid>.blend`` (and Blender's ``….blend@`` while it
  saved one), a job report's, the checkpoint's, the batch report's, the chart's. Those whose
  writing process no longer runs are removed (:func:`sweep_temporaries`);
- a job report that the kill skipped (the output was renamed into place, its report not yet
  written): written again from what is known (:func:`write_missing_reports`);
- a damaged checkpoint, moved aside: its records are rebuilt from the outputs that are
  verifiably complete (:func:`rebuild_records`), so those jobs are not run again.
"""

import contextlib
import os
import time
from pathlib import Path

from ..route.atomic_files import stale_temporaries_in
from .job_evidence import blend_complete, complete_output, write_recovered_report
from .job_record import finish_record, new_record


def job_report_path(paths, job) -> Path:
    """Where *job*'s own memory report goes."""
    return Path(paths.job_reports) / f"{job.id}.json"


def sweep_temporaries(paths, jobs: list) -> list[Path]:
    """Remove the temporaries of dead writers under ``--out``; returns what was removed.

    In each job's output folder only the temporaries of the jobs' own outputs are touched
    (the folder may hold the user's files); the state folder is LeanRoute's alone, so every
    stale temporary in it goes. Writers still running (another shard) keep theirs.
    """
    outputs: dict[Path, set[str]] = {}
    for job in jobs:
        outputs.setdefault(Path(job.out).parent, set()).add(Path(job.out).name)
    stale: list[Path] = []
    for folder, names in outputs.items():
        for name, found in stale_temporaries_in(folder).items():
            if name in names:
                stale += found
    for folder in (paths.state, paths.job_reports, paths.claims):
        for found in stale_temporaries_in(folder).values():
            stale += found
    removed = []
    for path in stale:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            path.unlink()
            removed.append(path)
    return removed


def recovered_record(job, how: str) -> dict:
    """A "done" record for *job* rebuilt from its output (*how*: the evidence, in words)."""
    try:
        finished = os.stat(job.out).st_mtime
    except OSError:
        finished = time.time()
    record = new_record(job, attempt=1, started_at=finished, process={})
    record = finish_record(record, status="done", finished_at=finished)
    record.update(recovered=True, evidence=how)
    return record


def rebuild_records(jobs: list, paths, claims) -> list[dict]:
    """Records for the *jobs* whose output is verifiably complete (after a damaged checkpoint)."""
    records = []
    for job in jobs:
        how = complete_output(job, job_report_path(paths, job), claims.history(job.id))
        if how:
            records.append(recovered_record(job, how))
    return records


def _missing(path: Path) -> bool:
    try:
        os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:  # a name too long, a FIFO in the path: nothing to write there either
        return False
    return False


def write_missing_reports(paths, jobs: list, records: dict) -> list[str]:
    """Write the job reports a kill skipped for done *jobs*; returns their ids.

    *records* are the checkpoint's, by id. Only a missing report is written: one that exists
    is the build's own and is never replaced.
    """
    written = []
    for job in jobs:
        record = records.get(job.id) or {}
        path = job_report_path(paths, job)
        if record.get("status") != "done" or not _missing(path) or not blend_complete(job.out):
            continue
        how = record.get("evidence") or (
            "its .blend was renamed into place after the job started"
            if record.get("recovered")
            else "the checkpoint records the job done"
        )
        try:
            write_recovered_report(path, job, how)
        except OSError:
            continue  # the report's folder is gone; the batch itself goes on
        written.append(job.id)
    return written
