"""A job's output folder inside ``--out``: created before the job, or the job fails alone (no bpy).

A job's ``out`` may name a subfolder (``west/krems-1.blend``). Making it can fail for
reasons that concern that one job only: a file (or a FIFO, a device) where a folder of the
path should be, a name longer than the file system allows, no permission. Each becomes a
:class:`~..route.errors.SettingsError` on ``out`` that says which part of the path is in
the way and what to do, so the job is recorded as failed and the batch goes on.
"""

import errno
import os
import stat
from pathlib import Path

from ..route.errors import SettingsError, os_error_line
from ..route.input_files import kind_of


def make_output_folder(out: Path) -> Path:
    """Create the folder of the output *out* (and its parents); returns it.

    Raises SettingsError("out", …) naming the part of the path in the way.
    """
    folder = Path(out).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    except OSError as error:
        raise SettingsError("out", _why(folder, error)) from None


def blocked_by(folder: Path) -> "tuple[Path, str] | None":
    """The part of *folder*'s path that is not a folder (and what it is), or None.

    A file (or a FIFO, a device) where a folder of the path should be makes the job fail
    when it runs, alone: it may be moved away before then, and other jobs need not wait.
    """
    for part in (*reversed(Path(folder).parents), Path(folder)):
        try:
            mode = os.lstat(part).st_mode
        except FileNotFoundError:
            return None  # nothing further down exists: the rest is what mkdir will make
        except OSError:
            continue
        if stat.S_ISLNK(mode) and os.path.isdir(part):
            continue
        if not stat.S_ISDIR(mode):
            return part, _kind_in_the_way(part, mode)
    return None


def _kind_in_the_way(part: Path, mode: int) -> str:
    """What stands where a folder should be, in words ("a file", "a link to nothing", ...)."""
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISLNK(mode):
        return "a link to a file" if os.path.exists(part) else "a link to nothing"
    return kind_of(mode)


def _why(folder: Path, error: OSError) -> str:
    blocked = blocked_by(folder)
    if blocked is not None:
        part, kind = blocked
        return (
            f"cannot create the folder {folder}: {part} is {kind}, not a folder; "
            "move it away or change the job's out"
        )
    if error.errno == errno.ENAMETOOLONG:
        limit = _name_limit(folder)
        longest = max(folder.parts, key=lambda part: len(os.fsencode(part)))
        return (
            f"cannot create the folder {folder}: the name {longest[:40]!r}… is "
            f"{len(os.fsencode(longest))} bytes long, the file system allows {limit}; "
            "use a shorter out"
        )
    return os_error_line(error, writing=True)


def _name_limit(folder: Path) -> int:
    for existing in folder.parents:
        try:
            return os.pathconf(existing, "PC_NAME_MAX")
        except (OSError, ValueError, AttributeError):  # no pathconf on Windows
            continue
    return 255
