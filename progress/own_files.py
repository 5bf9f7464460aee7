"""A batch's own files (its state folder): opened so that no link leads a write elsewhere (no bpy).

Everything under ``<out>/leanroute-batch/`` is LeanRoute's to write. A symbolic link put
there (to the OSM input, to any file) would make the batch write into the file it leads to;
a hard link is that other file under a second name, so appending to it changes the other.
Files LeanRoute appends to or rewrites in place (the event log, the checkpoint's journal,
the lock, the claims, the logs) are opened with :func:`open_own`, which refuses a link, a
folder, a FIFO or a device with one line saying what to do; :func:`symbolic_links` finds
links where a file is replaced whole (the checkpoint, the reports, the chart), before the
batch writes anything.
"""

import errno
import os
import stat
from pathlib import Path

from ..route.errors import LeanRouteError

#: Not on Windows, where symbolic links are rare and need privileges to make.
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def problem(path, what: str, reason: str) -> str:
    """One line: *path* is *reason*, but must be the batch's *what*; what to do."""
    return f"{path}: {reason}, but it should be the batch's {what}; move it away and run again"


def _reason(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "it is a symbolic link"
    if error.errno == errno.EISDIR:
        return "it is a folder"
    return (error.strerror or str(error)).lower()


def open_own(path, flags: int, what: str) -> int:
    """``os.open(path, flags)`` (created if missing) for a regular file with no other name.

    Raises LeanRouteError naming *path* and what it should be (*what*: "event log").
    """
    try:
        fd = os.open(path, flags | os.O_CREAT | NOFOLLOW, 0o644)
    except OSError as error:
        raise LeanRouteError(problem(path, what, _reason(error))) from None
    info = os.fstat(fd)
    reason = None
    if not stat.S_ISREG(info.st_mode):
        reason = "it is not a regular file (a FIFO, a device?)"
    elif info.st_nlink > 1:
        reason = "it is a hard link (the same file has another name, which would change too)"
    if reason:
        os.close(fd)
        raise LeanRouteError(problem(path, what, reason))
    return fd


def symbolic_links(*folders) -> "list[Path]":
    """The symbolic links directly in *folders* (missing folders have none)."""
    found = []
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        found += [Path(entry.path) for entry in entries if entry.is_symlink()]
    return sorted(found)
