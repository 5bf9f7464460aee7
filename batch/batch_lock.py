"""One run at a time per batch (or shard): a lock file in the state folder (no bpy).

Two runs of the same batch at once (a farm retrying a task that still runs, a second
terminal) would both run the same pending jobs. The lock is an advisory ``flock`` that the
kernel drops when the process dies, however it dies, so a killed batch never leaves a
stale lock behind. Where ``fcntl`` does not exist (Windows) there is no lock.
"""

import contextlib
import os
from pathlib import Path

from ..progress.own_files import open_own
from ..route.errors import LeanRouteError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


class BatchLockedError(LeanRouteError):
    """Another process is running this batch (or shard) now."""


@contextlib.contextmanager
def batch_lock(path: Path, what: str = "this batch"):
    """Hold the lock file *path* while the block runs; raise if another process holds it."""
    if fcntl is None:
        yield
        return
    # Not through a link: the pid written below would overwrite the file it leads to.
    fd = open_own(path, os.O_RDWR, "lock file")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip() or "?"
            raise BatchLockedError(
                f"{what} is already running (process {holder}, lock {path}); wait for it to "
                "end, or stop it and run the command again to resume"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # releases the lock
