"""Write output files under a temporary name and rename them into place (no bpy).

A killed or failed write never leaves a half-written file under the final name: the
rename is atomic on one file system, so readers see the old file or the whole new one.
"""

import contextlib
import errno
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from ..memory.process_memory import started_at
from ..memory.units import format_bytes
from .errors import LeanRouteError, OutputFileError, free_bytes, os_error_line
from .kill_points import reached
from .output_paths import Output, absolute, check_target


def check_writable(path: Path, setting: str) -> Path:
    """The real path to write *path* to, refused early, before any work, if it cannot be.

    The checks of :func:`.output_paths.check_target` (a folder, a device, a FIFO, a
    dangling link, a missing or read-only folder, a name too long), for one file.
    """
    path = absolute(path)
    return check_target(Output(setting, path, path.suffix.lower(), by_blender=True))


def temporary_path(path: Path) -> Path:
    """The temporary name of *path* for this process: ``.<stem>.tmp-<pid><suffix>`` beside it."""
    # Same folder, so the rename stays on one file system; the suffix keeps the type.
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")


@contextlib.contextmanager
def atomic_target(path: Path, *, needed: "int | Callable[[], int] | None" = None) -> Iterator[Path]:
    """Yield a temporary path beside *path*; on success rename it to *path*, else delete it.

    A symbolic link at *path* is followed: the file it names is replaced and the link stays.
    A failed write (an OSError, or Blender's RuntimeError when it cannot save) becomes an
    :class:`.errors.OutputFileError`, one line naming *path* and what to do; *needed* (bytes,
    or a function giving them, asked only then) is what the write needs, for a full disk.
    """
    path = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    temporary = temporary_path(path)
    # Start from nothing: a leftover of a killed run would make Blender keep a ".blend1" backup.
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    try:
        try:
            yield temporary
            if not temporary.exists():
                raise OSError(f"nothing was written to {temporary}")
            reached("temp-written", path)
            os.replace(temporary, path)
            reached("renamed", path)
        except LeanRouteError:
            raise
        except (OSError, RuntimeError) as error:
            raise write_failure(path, error, temporary=temporary, needed=needed) from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_failure(
    path: Path,
    error: BaseException,
    *,
    temporary: "Path | None" = None,
    needed: "int | Callable[[], int] | None" = None,
) -> OutputFileError:
    """One clear error for a failed write of *path*: what went wrong and what to do.

    Blender reports a full disk as "No such file or directory"; an error without a usable
    errno is therefore told by what can be seen afterwards: the folder gone or not writable,
    or less space free than the write needed.
    """
    code = getattr(error, "errno", None)
    folder = path.parent
    written = _size(temporary)
    if callable(needed):
        needed = _quietly(needed)
    needed = max(filter(None, (needed, written)), default=None)
    free = free_bytes(folder)
    if code is None or isinstance(error, RuntimeError):
        if not folder.is_dir():
            code = errno.ENOENT
        elif not os.access(folder, os.W_OK | os.X_OK):
            code = errno.EACCES
        elif needed is not None and free is not None and free < needed:
            code = errno.ENOSPC
    if code is None:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else "failed"
        space = f", {format_bytes(free)} free" if free is not None else ""
        return OutputFileError(
            path,
            f"could not be written ({detail}{space}): check that {folder} is writable and has "
            "space",
        )
    line = os_error_line(OSError(code, os.strerror(code)), path, writing=True, needed=needed)
    return OutputFileError(path, line.removeprefix(f"{path}: "), errno_code=code)


def _size(path: "Path | None") -> "int | None":
    try:
        return path.stat().st_size if path is not None else None
    except OSError:
        return None


def _quietly(function) -> "int | None":
    try:
        return function()
    except Exception:  # an estimate for a message must not hide the real error
        return None


def write_text_atomic(path: Path, text: str) -> None:
    """Write *text* to *path* through a temporary file and an atomic rename."""
    data = text.encode("utf-8")
    with atomic_target(path, needed=len(data)) as temporary, open(temporary, "wb") as handle:
        reached("temp-started", path)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


#: ``.<stem>.tmp-<pid><suffix>``, and Blender's own ``…@`` beside it while it saves one.
_TEMPORARY = re.compile(r"\.(?P<stem>.+)\.tmp-(?P<pid>[0-9]+)(?P<suffix>\.[^.@]*)?@?")


def temporary_of(name: str) -> "tuple[str, int] | None":
    """The final file name and writer's pid of a temporary's name; None for other names.

    The names are :func:`atomic_target`'s and the ``@`` file Blender writes while saving one.
    """
    match = _TEMPORARY.fullmatch(name)
    if match is None or len(match["pid"]) > 9:  # no pid has more digits: not ours
        return None
    return match["stem"] + (match["suffix"] or ""), int(match["pid"])


def stale_temporaries_in(folder: Path) -> "dict[str, list[Path]]":
    """Temporaries in *folder* left by processes that no longer run, by final file name.

    One pass over the folder, however many outputs it holds; a missing or unreadable
    folder has none.
    """
    found: dict[str, list[Path]] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        parsed = temporary_of(entry.name)
        if parsed is not None and not _writer_alive(parsed[1], entry.path):
            found.setdefault(parsed[0], []).append(Path(entry.path))
    return found


def stale_temporaries(path: Path) -> list[Path]:
    """Temporaries of *path* left by processes that no longer run (killed mid-write).

    :func:`atomic_target` names them ``.<stem>.tmp-<pid><suffix>``; Blender, saving one,
    first writes ``….blend@``. One whose process is alive belongs to a write in progress
    and is not listed.
    """
    path = Path(path)
    return sorted(stale_temporaries_in(path.parent).get(path.name, []))


def _writer_alive(pid: int, path) -> bool:
    """True while process *pid* may still be writing *path*.

    A process that started after *path* was last written only got a dead writer's pid
    again (the OS reuses them): it is not the writer.
    """
    if not _process_alive(pid):
        return False
    started = started_at(pid)
    try:
        written = os.stat(path).st_mtime
    except OSError:
        return False
    # A second's slack for the clocks' coarse grain; a writer starts long before it writes.
    return started is None or started <= written + 1.0


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
