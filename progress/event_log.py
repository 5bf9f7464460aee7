# SPDX-License-Identifier: GPL-3.0-or-later
"""The batch's event log: one JSON object a line, appended as things happen (plain Python).

Several processes (the runner and its isolated workers) may append to one log: the file is
opened with ``O_APPEND`` and every line goes out in a single ``write`` call, so lines never
interleave mid-way. A process killed mid-write can leave a truncated last line;
:func:`read_events` skips it.
"""

import contextlib
import json
import os
import time
from pathlib import Path

from .own_files import open_own


def open_for_appending(path: "str | os.PathLike[str]", what: str = "event log") -> int:
    """A descriptor appending to *path* (created if missing), after any torn last line.

    A process killed in the middle of a line leaves it without its newline; the next line
    appended would join it and be lost with it, so the torn line is ended first. A link, a
    folder, a FIFO or a device at *path* is refused (:func:`.own_files.open_own`): appending
    to a FIFO would hang once its buffer is full, and through a link would change another
    file.
    """
    fd = open_own(path, os.O_RDWR | os.O_APPEND, what)
    try:
        end_torn_line(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def end_torn_line(fd: int) -> None:
    """Add the newline a line cut short by a kill lacks (*fd* appends and can be read)."""
    size = os.fstat(fd).st_size
    if size and _last_byte(fd, size) != b"\n":
        write_all(fd, b"\n")


def _last_byte(fd: int, size: int) -> bytes:
    # lseek + read, not pread (Windows has none); with O_APPEND, writes still go to the end.
    os.lseek(fd, size - 1, os.SEEK_SET)
    return os.read(fd, 1)


def write_all(fd: int, data: bytes) -> None:
    """Write all of *data* (one write(2) unless the OS takes less: disk full, a signal)."""
    written = os.write(fd, data)
    while written < len(data):
        written += os.write(fd, data[written:])


class EventLog:
    """Appends events to the JSON-lines file *path* (created, with its folder, if missing)."""

    def __init__(self, path: "str | os.PathLike[str]") -> None:
        self._fd: int | None = None  # so __del__ copes with an __init__ that failed
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A raw descriptor, not a buffered file object: each line reaches the OS in one
        # write(2), which O_APPEND makes atomic against other appenders.
        self._fd: int | None = open_for_appending(self.path)

    def write(self, event: str, *, fsync: bool = False, **fields: object) -> dict:
        """Append ``{"time", "event", "pid", **fields}`` as one line and return that record.

        *fsync* forces the line to disk (job results: they must survive a power cut or an OOM
        kill of the whole machine); other events only reach the OS.
        """
        if self._fd is None:
            raise ValueError(f"event log {self.path} is closed")
        record = {"time": round(time.time(), 3), "event": event, "pid": os.getpid(), **fields}
        data = (json.dumps(record, default=str) + "\n").encode("utf-8")
        write_all(self._fd, data)
        if fsync:
            os.fsync(self._fd)
        return record

    def flush(self) -> None:
        """Nothing to do: every line is handed to the OS when written (kept for file-likes)."""

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._fd is None

    def close(self) -> None:
        """Close the file; closing twice is fine."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> "EventLog":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Don't leak the descriptor if a caller forgot close(); never raise at shutdown.
        with contextlib.suppress(OSError):
            self.close()


def read_events(path: "str | os.PathLike[str]") -> "list[dict]":
    """Events in the log at *path*, in file order; ``[]`` when the file does not exist.

    Blank lines and lines that are not a JSON object are skipped: a process killed mid-write
    leaves a truncated line, which must not make the rest of the log unreadable.
    """
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    events = []
    # Split on "\n" only: json.dumps escapes every other line separator str.splitlines knows.
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):  # torn, or nested past what Python parses
            continue
        if isinstance(event, dict):
            events.append(event)
    return events
