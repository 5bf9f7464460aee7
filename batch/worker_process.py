"""A worker: a fresh Blender process that runs some of the batch's jobs (no bpy).

The coordinator starts it with the job ids it should run; the worker prints its events on
stdout (:mod:`.worker_protocol`), which a reader thread turns into ``(worker, event)``
items on the coordinator's queue; any other output goes to the worker's log file. When the
process ends, a ``worker_exit`` event with its exit status follows. A worker dies with its
coordinator (Linux: ``PR_SET_PDEATHSIG``), so killing a batch never leaves workers behind
writing outputs nobody records.
"""

import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

from ..memory.process_memory import rss_of
from ..progress.own_files import open_own
from .worker_protocol import decode


class WorkerProcess:
    """One worker process and what it has reported so far."""

    def __init__(self, number: int, command: list[str], job_ids: list[str], log_path: Path, events):
        self.number = number
        self.job_ids = list(job_ids)
        self.started: list[str] = []
        self.finished: list[str] = []
        self.breaker_open = False
        self.log_path = Path(log_path)
        self._events: queue.Queue = events
        fd = open_own(self.log_path, os.O_WRONLY | os.O_APPEND, "worker log")
        self._log = os.fdopen(fd, "a", encoding="utf-8", errors="replace")
        self._log.write(f"$ {subprocess.list2cmdline(command)}\n")
        self._log.flush()
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        self._reader = threading.Thread(
            target=self._read, name=f"leanroute-worker-{number}", daemon=True
        )
        self._reader.start()

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    @property
    def current(self) -> "str | None":
        """The job the worker is running now (started, not yet finished)."""
        running = [job_id for job_id in self.started if job_id not in self.finished]
        return running[-1] if running else None

    @property
    def untouched(self) -> list[str]:
        """Jobs given to this worker that it never started."""
        return [job_id for job_id in self.job_ids if job_id not in self.started]

    def rss(self) -> "int | None":
        """The worker's RSS now (None once it has ended)."""
        return rss_of(self.pid) if self.process.poll() is None else None

    def note(self, event: dict) -> None:
        """Track the job a reported event is about."""
        kind, job_id = event.get("event"), event.get("id")
        if kind == "job_started":
            self.started.append(job_id)
        elif kind in ("job_done", "job_failed"):
            self.finished.append(job_id)
        elif kind == "breaker_open":
            self.breaker_open = True

    def kill(self) -> None:
        """Stop the worker now (its unfinished job stays unfinished in the checkpoint)."""
        if self.process.poll() is None:
            self.process.kill()

    def _read(self) -> None:
        for line in self.process.stdout:
            event = decode(line.rstrip("\n"))
            if event is None:
                self._log.write(line)
                self._log.flush()
            else:
                self._events.put((self, event))
        code = self.process.wait()
        self._log.write(f"[exit: {describe_exit(code)}]\n")
        self._log.close()
        self._events.put((self, {"event": "worker_exit", "code": code}))


def describe_exit(code: int) -> str:
    """``exit code 3`` or ``killed by SIGKILL (out of memory?)``."""
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    hint = " (out of memory?)" if -code == signal.SIGKILL else ""
    return f"killed by {name}{hint}"


def die_with_parent(parent_pid: int) -> None:
    """In a worker: be killed when the coordinator *parent_pid* dies (Linux; else no-op).

    A coordinator killed with SIGKILL cannot stop its workers itself; the kernel does it.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent_pid and os.getppid() != parent_pid:  # the parent died before prctl
        os._exit(3)
