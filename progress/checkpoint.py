"""The checkpoint of a batch: which jobs are done or failed, with their metrics (no bpy).

Written atomically (temporary file, fsync, rename) when a job starts and when it ends, so
a batch killed at any moment leaves either the previous checkpoint or the next one, never
half of one. A resumed run asks :meth:`Checkpoint.plan` what is left:

- done, with its output on disk and the same settings: skipped;
- failed: skipped (the reason stays in the checkpoint), unless failed jobs are retried;
- running when the batch died: if its output was renamed into place after the job started,
  the job had finished and only its "done" record was lost, so it counts as done (never
  run twice); otherwise it runs again;
- changed settings, a missing output, or no record at all: runs.

Cost stays linear in the number of jobs. While the checkpoint is small (about a hundred
jobs) every change rewrites it whole, atomically. Past that, a change is appended to a
journal beside it (``checkpoint.journal.jsonl``: one fsynced line per change, a torn last
line ignored) and the snapshot is rewritten only once the journal has grown as large as
it, so a batch of tens of thousands of jobs does not rewrite megabytes after every job.
Each change carries a sequence number; reading replays the journal lines newer than the
snapshot.
"""

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..route.atomic_files import write_text_atomic
from .checkpoint_load import (
    FORMAT,
    CheckpointError,
    journal_path,
    move_aside,
    present,
    read_checkpoint,
    read_journal,
)
from .event_log import open_for_appending, write_all

__all__ = ["FORMAT", "VERSION", "Checkpoint", "CheckpointError", "MovedAside", "Plan"]

VERSION = 1
#: Rewrite the whole snapshot after every change while it is smaller than this.
SNAPSHOT_LIMIT = 1 << 18


@dataclass(frozen=True)
class MovedAside:
    """A damaged checkpoint, kept under a new name: where it went and what was wrong."""

    path: Path
    reason: str


@dataclass
class Plan:
    """What a (resumed) run has to do."""

    pending: list = field(default_factory=list)  # jobs to run, in file order
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # failed earlier and not retried
    recovered: list[str] = field(default_factory=list)  # finished, record lost: now done
    rerun: dict[str, str] = field(default_factory=dict)  # job id -> why it runs again

    @property
    def finished(self) -> int:
        """Jobs that need no work."""
        return len(self.done) + len(self.failed)


class Checkpoint:
    """The checkpoint file of one batch (or one shard of it)."""

    def __init__(self, path, header: "dict | None" = None, jobs: "dict | None" = None):
        self.path = Path(path)
        self.header = dict(header or {})
        self.jobs: dict[str, dict] = dict(jobs or {})
        self._snapshot_bytes = self.path.stat().st_size if self.path.is_file() else 0
        self._journal_bytes = 0
        #: Set by :meth:`open` when the checkpoint on disk was damaged and moved aside.
        self.moved_aside: MovedAside | None = None

    @classmethod
    def open(cls, path, header: dict) -> "Checkpoint":
        """Load *path* if it exists (checking it belongs to this batch), else start one.

        *header* names the batch (jobs file, output folder, shard); a checkpoint of another
        shard or output folder, or of a newer LeanRoute, is refused rather than silently
        mixed in. A damaged one (unreadable JSON, the wrong shape, not a file) is moved
        aside and a new one started: :attr:`moved_aside` says where it went and why.
        """
        path = Path(path)
        fresh = {"format": FORMAT, "version": VERSION, **header, "runs": []}
        if not present(path):
            return cls(path, fresh)
        data, problem = read_checkpoint(path)
        if problem is not None:
            moved = MovedAside(move_aside(path), problem)
            checkpoint = cls(path, fresh)
            checkpoint.moved_aside = moved
            checkpoint._snapshot_bytes = 0  # the damaged file is replaced at the first save
            return checkpoint
        if data.get("version", 0) > VERSION:
            raise CheckpointError(
                f"{path}: written by a newer LeanRoute (checkpoint version {data['version']}); "
                "run that version, or move the checkpoint away to start the batch afresh"
            )
        for key in ("shard", "out_dir"):
            if key in header and data.get(key) != header[key]:
                raise CheckpointError(
                    f"{path}: belongs to {key} {data.get(key)!r}, not {header[key]!r}; "
                    "move it away to start this batch afresh"
                )
        jobs = data.pop("jobs", {})
        data.update({key: value for key, value in header.items() if key not in ("shard",)})
        checkpoint = cls(path, data, jobs)
        for change in read_journal(path, since=data.get("seq", 0)):
            checkpoint.jobs[change["record"]["id"]] = change["record"]
            checkpoint.header["seq"] = change["seq"]
        return checkpoint

    @property
    def journal_path(self) -> Path:
        """The journal of changes since the last snapshot."""
        return journal_path(self.path)

    def restore(self, records: "list[dict]") -> None:
        """Put back records rebuilt from other evidence (after a damaged checkpoint), and save."""
        for record in records:
            self.jobs[record["id"]] = record
        self.save()

    def start_run(self, **details) -> None:
        """Note that a run (first or resumed) starts now, and save."""
        self.header.setdefault("runs", []).append(
            {"started": round(time.time(), 3), "pid": os.getpid(), **details}
        )
        self.save()

    def plan(self, jobs: list, *, retry_failed: bool = False) -> Plan:
        """Sort *jobs* (objects with id, fingerprint, out) into skipped and pending."""
        plan = Plan()
        for job in jobs:
            record = self.jobs.get(job.id)
            why = self._why_rerun(job, record, retry_failed)
            if why is None:
                (plan.done if record["status"] == "done" else plan.failed).append(job.id)
            elif why == "recovered":
                self._recover(job, record)
                plan.done.append(job.id)
                plan.recovered.append(job.id)
            else:
                plan.pending.append(job)
                if record is not None:
                    plan.rerun[job.id] = why
        if plan.recovered:
            self.save()
        return plan

    def _why_rerun(self, job, record: "dict | None", retry_failed: bool) -> "str | None":
        if record is None:
            return "new"
        if record.get("fingerprint") != job.fingerprint:
            return "its settings changed"
        status = record.get("status")
        if status == "done":
            return None if _exists(Path(job.out)) else "its output is missing"
        if status == "failed":
            return "retrying failed jobs" if retry_failed else None
        if output_landed(Path(job.out), record.get("started_at")):
            return "recovered"
        return "it was interrupted"

    def _recover(self, job, record: dict) -> None:
        out = Path(job.out)
        record.update(
            status="done",
            recovered=True,
            finished_at=round(out.stat().st_mtime, 3),
            out_bytes=out.stat().st_size,
            reason="",
        )

    def record(self, record: dict) -> None:
        """Store a job's record (started, done or failed), durably."""
        self.jobs[record["id"]] = record
        self.header["seq"] = self.header.get("seq", 0) + 1
        if self._snapshot_bytes < SNAPSHOT_LIMIT:
            self.save()
            return
        line = json.dumps({"seq": self.header["seq"], "record": record}, default=str) + "\n"
        data = line.encode("utf-8")
        fd = open_for_appending(self.journal_path, "checkpoint journal")
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._journal_bytes += len(data)
        if self._journal_bytes >= self._snapshot_bytes:
            self.save()

    def records(self, status: "str | None" = None) -> list[dict]:
        """Stored records, in the order they finished (running ones last)."""
        chosen = [r for r in self.jobs.values() if status is None or r.get("status") == status]
        return sorted(chosen, key=lambda r: r.get("finished_at") or float("inf"))

    def save(self) -> None:
        """Write the whole checkpoint atomically (one job a line) and empty the journal."""
        self.header["updated"] = round(time.time(), 3)
        header = json.dumps(self.header, indent=1, default=str)
        jobs = ",\n".join(
            f"  {json.dumps(job_id)}: {json.dumps(record, default=str)}"
            for job_id, record in self.jobs.items()
        )
        text = f'{header[:-2]},\n "jobs": {{\n{jobs}\n }}\n}}\n'
        write_text_atomic(self.path, text)
        self._snapshot_bytes = len(text)
        # The snapshot holds every change: the journal's lines are now older than it (and
        # would be skipped by their sequence numbers even if this unlink never happened).
        self.journal_path.unlink(missing_ok=True)
        self._journal_bytes = 0


def _exists(path: Path) -> bool:
    # Path.exists raises for a name too long or a path through a FIFO: that is "missing".
    try:
        return path.exists()
    except OSError:
        return False


def output_landed(out: Path, started_at) -> bool:
    """True when *out* was renamed into place after *started_at*: the job had finished.

    The output is renamed into place at a job's very end, so an output newer than the
    job's start was written by that job.
    """
    if started_at is None:
        return False
    try:
        return out.stat().st_mtime >= float(started_at)
    except OSError:
        return False
