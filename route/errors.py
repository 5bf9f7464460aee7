"""Errors about the user's input: each says what is wrong and where (plain Python, no bpy)."""

import errno
import os
import shutil
from pathlib import Path

from ..memory.units import format_bytes


class LeanRouteError(Exception):
    """Base of LeanRoute's user-facing errors; ``str()`` is one clear line."""


class InputFileError(LeanRouteError, ValueError):
    """An input file (OSM, GPX) that cannot be read: names the file and, if known, the position."""

    def __init__(
        self, path, message: str, *, line: "int | None" = None, column: "int | None" = None
    ):
        self.path = str(path)
        self.line = line
        self.column = column
        self.reason = message
        where = self.path
        if line is not None:
            where += f":{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {message}")


class RouteError(LeanRouteError, ValueError):
    """A route that cannot be built: names the waypoint (1-based) when one is to blame."""

    def __init__(self, message: str, *, waypoint: "int | None" = None):
        self.waypoint = waypoint
        super().__init__(message)


class SettingsError(LeanRouteError, ValueError):
    """A build setting that is out of range or malformed: names the setting."""

    def __init__(self, setting: str, message: str):
        self.setting = setting
        #: The message without the setting's name, to name it another way (an option, a column).
        self.reason = message
        super().__init__(f"{setting}: {message}")


class OutputFileError(LeanRouteError, OSError):
    """An output file that could not be written: names the file and what to do."""

    def __init__(self, path, message: str, *, errno_code: "int | None" = None):
        self.path = str(path)
        self.reason = message
        super().__init__(f"{path}: {message}")
        if errno_code is not None:
            self.errno = errno_code


def describe(error: BaseException) -> str:
    """The one line shown to a user for *error*: the same in the CLI and Blender's reports.

    LeanRoute's own errors already say what is wrong and where; an OSError becomes a line
    naming the file and what to do (:func:`os_error_line`); anything else (a bug) is
    prefixed with its type so it is not mistaken for a finding about the input.
    """
    text = str(error).splitlines()[0] if str(error) else ""
    if isinstance(error, LeanRouteError) and text:
        return text
    if isinstance(error, OSError):
        return os_error_line(error)
    if isinstance(error, MemoryError):  # a budget's own message says what to do
        return text or "out of memory: try a smaller area (less padding) or fewer layers"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


#: What to say for an OS error by its errno, where the message needs nothing but the file.
_PLAIN_OS_ERRORS = {
    errno.ENOENT: "no such file or folder",
    errno.EROFS: "the file system is read-only: write to a folder on a writable disk",
    errno.ENAMETOOLONG: "the name is too long for the file system: use a shorter name or folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a folder: give a file name",
    errno.EFBIG: "the file grew past the size limit (ulimit -f, or the file system's)",
    errno.ELOOP: "too many levels of symbolic links (a link pointing at itself?)",
    errno.EMFILE: "too many open files: raise the limit (ulimit -n) or run fewer at once",
    errno.ENFILE: "too many open files: raise the limit (ulimit -n) or run fewer at once",
}


def os_error_line(
    error: OSError, path=None, *, writing: bool = False, needed: "int | None" = None
) -> str:
    """One line for an operating-system error: the file, what went wrong, what to do.

    *path* is the file concerned when the error does not name it; *writing* says it was
    being written (so a permission error or a vanished folder is about its folder);
    *needed* is how many bytes the write needed, when known, for a full disk.
    """
    name = path if path is not None else error.filename
    where = f"{name}: " if name is not None else ""
    return where + _os_error_reason(error.errno, error, _folder_of(name), writing, needed)


def _os_error_reason(code, error: OSError, folder, writing: bool, needed) -> str:
    writing_to = writing and folder is not None
    if code == errno.ENOENT and writing_to:
        return f"the folder {folder} no longer exists: create it again or choose another"
    if code in _PLAIN_OS_ERRORS:
        return _PLAIN_OS_ERRORS[code]
    if code in (errno.ENOSPC, errno.EDQUOT):
        what = "no space left on the disk" if code == errno.ENOSPC else "disk quota exceeded"
        return f"{what}{_space(folder, needed)}: free some space or write elsewhere"
    if code in (errno.EACCES, errno.EPERM) and writing_to:
        return (
            f"permission denied: the folder {folder} is not writable; choose another folder "
            "or change its permissions"
        )
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied: check the permissions of the file and its folder"
    reason = error.strerror or (str(error.args[0]) if error.args else "") or "cannot be used"
    return reason[0].lower() + reason[1:]


def _folder_of(name) -> "Path | None":
    if name is None:
        return None
    try:
        return Path(os.fsdecode(name)).absolute().parent
    except (TypeError, ValueError):
        return None


def _space(folder: "Path | None", needed: "int | None") -> str:
    """`` (needs about 3.1 MiB, 1.2 MiB free)`` as far as it is known."""
    parts = [] if needed is None else [f"needs about {format_bytes(needed)}"]
    free = free_bytes(folder) if folder is not None else None
    if free is not None:
        parts.append(f"{format_bytes(free)} free")
    return f" ({', '.join(parts)})" if parts else ""


def free_bytes(folder) -> "int | None":
    """Bytes free to this user on the disk holding *folder* (or its nearest existing parent).

    None if that cannot be told.
    """
    folder = Path(folder)
    for candidate in (folder, *folder.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None
