"""Per-job claims: a job runs in one process at a time, whatever batches share ``--out`` (no bpy).

Each shard (and the whole batch) has its own checkpoint and lock, so a whole batch and
one of its shards, or two overlapping shards, started at once on the same ``--out`` would
each see the same job as pending. Before a job runs, its runner claims it: an advisory
``flock`` on ``leanroute-batch/claims/<id>.claim``, which the kernel drops when the process
ends however it ends (so a killed claimer never leaves a stale claim). While the lock is
held elsewhere the job is put off; once claimed, the file's history says whether another
run has meanwhile settled the job.

The claim file is also that history: one JSON line per change (``running``, then
``done`` or ``failed``, with the job's fingerprint, times and the run that wrote it),
appended in one write each, so a line torn by a kill is simply skipped.

Where ``fcntl`` does not exist (Windows) a claim always succeeds: there is no locking, as
for the batch lock, and the history is still kept.
"""

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

from ..progress.event_log import end_torn_line, write_all
from ..progress.own_files import open_own

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

#: Longest job id used as it is in a claim's file name (longer ones are shortened + hashed).
NAME_LIMIT = 120


def claim_name(job_id: str) -> str:
    """The claim file's name for *job_id*, short enough for any file system."""
    if len(job_id.encode()) <= NAME_LIMIT:
        return f"{job_id}.claim"
    digest = hashlib.sha256(job_id.encode()).hexdigest()[:16]
    return f"{job_id[: NAME_LIMIT // 2]}-{digest}.claim"


def read_history(path: Path) -> "list[dict]":
    """The whole lines of a claim file, oldest first; [] when there is none."""
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return []
    history = []
    for line in raw.split(b"\n"):
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue  # torn by a kill mid-write, or empty
        if isinstance(entry, dict) and isinstance(entry.get("status"), str):
            history.append(entry)
    return history


class Claim:
    """A job claimed by this process: held until :meth:`release` (or the process ends)."""

    def __init__(self, job_id: str, path: Path, fd: int, by: str):
        self.job_id = job_id
        self.path = path
        self.by = by
        self._fd: int | None = fd

    def history(self) -> "list[dict]":
        """Every run's lines for this job, oldest first."""
        return read_history(self.path)

    def note(self, status: str, **fields) -> None:
        """Append ``status`` (running, done, failed) and *fields* as one line, forced to disk."""
        if self._fd is None:
            return
        entry = {"id": self.job_id, "status": status, "pid": os.getpid(), "by": self.by}
        entry.update(fields, time=round(time.time(), 3))
        write_all(self._fd, (json.dumps(entry, default=str) + "\n").encode("utf-8"))
        os.fsync(self._fd)

    def release(self) -> None:
        """Let other processes claim the job (closing the file drops the lock)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)


class JobClaims:
    """The claims of the jobs under one ``--out`` folder, taken on behalf of *by*."""

    def __init__(self, folder: Path, by: str):
        self.folder = Path(folder)
        self.by = by

    def path(self, job_id: str) -> Path:
        """The claim file of *job_id*."""
        return self.folder / claim_name(job_id)

    def history(self, job_id: str) -> "list[dict]":
        """The job's history, read without claiming it."""
        return read_history(self.path(job_id))

    def claim(self, job_id: str) -> "Claim | None":
        """Claim *job_id* now; None while another process holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(job_id)
        fd = open_own(path, os.O_RDWR | os.O_APPEND, f"claim file of job {job_id!r}")
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
        try:
            end_torn_line(fd)  # held now: a line a killed claimer tore is ended safely
        except BaseException:
            os.close(fd)
            raise
        return Claim(job_id, path, fd, self.by)

    def holder(self, job_id: str) -> str:
        """Who holds *job_id* as far as its history says (``"process 42 (shard 2/4)"``)."""
        running = [e for e in self.history(job_id) if e.get("status") == "running"]
        if not running:
            return "another process"
        return f"process {running[-1].get('pid', '?')} ({running[-1].get('by', '?')})"
