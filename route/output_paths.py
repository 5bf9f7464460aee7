"""Output paths, checked before anything is built or written (plain Python, no bpy).

Every output is written under a temporary name beside its target and renamed into place
(:mod:`.atomic_files`), and a rename replaces whatever has the target's name. So before a
build starts, each output is refused, with one line naming the option and the path, when:

- it names a folder, or its name does not end in the kind it is (``--out`` a ``.blend``,
  ``--report`` a ``.json``): ``--out a`` would otherwise write a ``.blend`` called ``a``;
- its target is not a regular file or a new name: a folder, a FIFO, a socket, a character
  or block device (``/dev/null``), a symbolic link to one of those, or a dangling link. A
  link to a regular file is followed: the file it names is replaced and the link stays. A
  read-only file is not replaced (the rename would, whatever its permissions);
- it is the same file as an input or as another output, by identity (device and inode), so
  every other spelling (a symbolic or hard link, ``./x``, ``../d/x``, another letter case on
  a case-insensitive disk) is caught;
- its folder does not exist, is not a folder, is not writable or is on a read-only disk;
- its name, once the temporary suffix is added (``.<stem>.tmp-<pid><suffix>``, and the
  ``@`` Blender adds while it saves), would be too long for the file system (NAME_MAX per
  name, PATH_MAX per path), or its path too long for Blender, which silently cuts paths
  longer than 1023 bytes and then reports success.

A file LeanRoute names itself (``demo``'s ``sample.osm``, ``demo.blend`` and
``demo-report.json`` in ``--out-dir``, the panel's timed report) is held to more: the user
never named it, so whatever is found there was not meant as the output. Its name must be
new or a regular file with no other name (:func:`check_own_name`): a symbolic link (to
anything, dangling included), a file with other hard links, a folder, a FIFO, a device or a
socket is refused, never written through or replaced.
"""

import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import SettingsError, os_error_line
from .input_files import kind_of

#: Blender keeps file paths in 1024-byte buffers (FILE_MAX); a longer path is cut short.
BLENDER_PATH_MAX = 1023
#: Digits of the widest process id a temporary name may carry (a 32-bit pid).
PID_DIGITS = 10
#: Bytes a temporary name adds to the target's: "." before, ".tmp-<pid>" after the stem.
TEMPORARY_EXTRA = len(".") + len(".tmp-") + PID_DIGITS
#: Blender first writes "<file>@" and renames it when the save is complete.
BLENDER_EXTRA = len("@")
#: Used when the file system does not say (POSIX minimums are far lower, Linux's are these).
DEFAULT_NAME_MAX, DEFAULT_PATH_MAX = 255, 4096


@dataclass(frozen=True)
class Output:
    """One file a command will write: the option that names it, its path and its kind."""

    option: str
    path: "Path | str"
    suffix: str  # ".blend", ".json", ".osm"
    #: Saved by Blender (its own temporary "@" file and path limit apply).
    by_blender: bool = False
    #: Set when LeanRoute chose the file's name (the user named only its folder): what
    #: names that folder ("--out-dir"), for the message. See :func:`check_own_name`.
    named_in: "str | None" = None


def absolute(path) -> Path:
    """*path* made absolute against the current folder, ``~`` expanded, links kept.

    Paths are made absolute where they enter (the command line), so a later change of the
    current folder (Blender 3.4 saves relative to its own) cannot send a file elsewhere.
    """
    return Path(os.path.expanduser(os.fspath(path))).absolute()


def names_a_folder(text: str) -> bool:
    """Whether *text*, given as a file name, can only name a folder (``x/``, ``.``, ``..``)."""
    return text.endswith(("/", os.sep)) or Path(text).name in ("", ".", "..")


def check_outputs(
    outputs: Sequence[Output],
    inputs: Iterable[tuple[str, "Path | None"]],
    *,
    may_create: bool = False,
) -> None:
    """Refuse any of *outputs* that cannot be written safely (see the module docstring).

    *inputs* are ``(option, path)`` pairs of the files the command reads; a missing input is
    skipped here (its reader says so). With *may_create*, an output's folder may be one the
    command will create. Raises :class:`.errors.SettingsError` naming the output's option.
    """
    taken: dict[tuple, tuple[str, str]] = {}
    for option, path in inputs:
        identity = _identity(path)
        if identity is not None:
            taken.setdefault(identity, (option, str(path)))
    for output in outputs:
        target = check_target(output, may_create=may_create)
        key = _identity(target) or ("new", os.path.normcase(str(target)))
        if key in taken:
            other, other_path = taken[key]
            same = "" if str(output.path) == other_path else f" {other_path}"
            raise SettingsError(
                output.option,
                f"{output.path} is the same file as {other}{same}: writing it would destroy "
                "that file; choose another name",
            )
        taken[key] = (output.option, str(output.path))
    # Last: a name of the wrong kind that is also another file's says the graver thing first.
    for output in outputs:
        path = Path(output.path)
        if path.suffix.lower() != output.suffix:
            raise SettingsError(
                output.option,
                f"{output.path} does not end in {output.suffix}: "
                f"use {_suggest(path, output.suffix)}",
            )


def check_target(output: Output, *, may_create: bool = False) -> Path:
    """The real path *output* will be written to (links followed), or SettingsError.

    Checks what the name is and where it lies, not its suffix (:func:`check_outputs` does).
    """
    option, given = output.option, os.fspath(output.path)
    path = Path(given)
    if output.named_in is not None:
        check_own_name(output)
    if names_a_folder(given):
        raise SettingsError(
            option, f"{given} names a folder; give a file name ending {output.suffix}"
        )
    mode = _mode(option, path)
    if mode is not None and stat.S_ISDIR(mode):
        raise SettingsError(
            option, f"{given} is a folder; give a file name, e.g. {path / ('name' + output.suffix)}"
        )
    if mode is not None and not stat.S_ISREG(mode):
        raise SettingsError(
            option,
            f"{given} is {kind_of(mode)}, not a regular file: writing would replace it; give a "
            f"new file name ending {output.suffix}",
        )
    if mode is not None and not os.access(path, os.W_OK):
        # The rename would replace it all the same: a read-only file says "keep me".
        raise SettingsError(
            option,
            f"{given} is read-only: make it writable to replace it, or give a new file name",
        )
    target = Path(os.path.realpath(path))
    check_folder(option, target.parent, may_create=may_create)
    _check_lengths(option, given, target, output)
    return target


def check_own_name(output: Output) -> None:
    """Refuse *output*, a name LeanRoute chose, unless it is new or a plain regular file.

    A regular file with one name is what an earlier run wrote and is replaced as before.
    Anything else the user (or someone) put there is refused with one line naming it: a
    symbolic link (to anything: it would lead the write elsewhere), a file with other hard
    links (it is also a file under another name), a folder, a FIFO, a device, a socket.
    LeanRoute's own temporaries of the name (a killed demo keeps its sample city under one)
    are not counted as other names.
    """
    given = os.fspath(output.path)
    try:
        info = os.lstat(given)
    except (FileNotFoundError, NotADirectoryError):
        return  # a new name (or a folder that is not one: the folder's check says so)
    except OSError as error:
        raise SettingsError(output.option, os_error_line(error, given)) from None
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        reason = f"is a symbolic link to {os.readlink(given)}"
    elif stat.S_ISDIR(mode):
        reason = "is a folder"
    elif not stat.S_ISREG(mode):
        reason = f"is {kind_of(mode)}, not a regular file"
    else:
        others = info.st_nlink - 1 - _own_temporaries_of(Path(given), info)
        if others <= 0:
            return
        names = "another name" if others == 1 else f"{others} other names"
        reason = f"is a file with {names} (a hard link): it may be another file of yours"
    raise SettingsError(
        output.option,
        f"{given} {reason}; LeanRoute chose this name and replaces only a plain file there: "
        f"remove it or choose another {output.named_in}",
    )


def unused_name(folder, stem: str, suffix: str) -> Path:
    """``<folder>/<stem><suffix>``, else ``<stem>-2<suffix>``, ``-3``...: the first one free.

    For a file LeanRoute names by itself in a folder the user chose (the panel's report
    after each build, named by the time): whatever holds a name (a file, a link, even a
    dangling one, a folder, a FIFO) is left alone and the next number is taken.
    """
    folder = Path(folder)
    path, number = folder / f"{stem}{suffix}", 1
    while os.path.lexists(path):
        number += 1
        path = folder / f"{stem}-{number}{suffix}"
    return path


def _own_temporaries_of(path: Path, info: os.stat_result) -> int:
    """How many of LeanRoute's temporaries of *path* (beside it) are the file *info* is."""
    pattern = re.compile(
        re.escape(f".{path.stem}.tmp-") + r"[0-9]{1,9}" + re.escape(path.suffix) + "@?"
    )
    count = 0
    try:
        with os.scandir(path.parent) as entries:
            for entry in entries:
                if not pattern.fullmatch(entry.name):
                    continue
                try:
                    found = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                count += (found.st_dev, found.st_ino) == (info.st_dev, info.st_ino)
    except OSError:
        return 0
    return count


def check_folder(option: str, folder: Path, *, may_create: bool = False) -> None:
    """Refuse *folder* unless it is an existing, writable folder.

    With *may_create*, a folder that does not exist yet is fine if its nearest existing
    parent is a writable folder (the command creates it) and every new name fits.
    """
    folder = Path(folder)
    existing = folder
    while may_create and not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    try:
        mode = os.stat(existing).st_mode
    except FileNotFoundError:
        raise SettingsError(
            option, f"the folder {folder} does not exist: create it first or choose another"
        ) from None
    except OSError as error:
        raise SettingsError(option, os_error_line(error, existing)) from None
    if not stat.S_ISDIR(mode):
        what = "is a file" if stat.S_ISREG(mode) else f"is {kind_of(mode)}"
        raise SettingsError(option, f"{existing} {what}, not a folder: choose a folder")
    if _read_only(existing):
        raise SettingsError(
            option, f"the folder {existing} is on a read-only disk: choose a writable folder"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SettingsError(
            option,
            f"the folder {existing} is not writable: choose another folder or change its "
            "permissions",
        )
    if existing != folder:
        _check_new_folder_names(option, existing, folder)


def _mode(option: str, path: Path) -> "int | None":
    """st_mode of what *path* names (links followed), None for a new name."""
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise SettingsError(
                option,
                f"{path} is a symbolic link to {os.readlink(path)}, which does not exist: "
                "give a new file name or fix the link",
            ) from None
        return None
    except OSError as error:
        raise SettingsError(option, os_error_line(error, path)) from None


def _identity(path) -> "tuple[int, int] | None":
    if path is None:
        return None
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows): the access check decides
        return False


def _limit(folder: Path, name: str, default: int) -> int:
    """A pathconf limit of the disk holding *folder* (or its nearest existing parent)."""
    for candidate in (folder, *folder.parents):
        try:
            return os.pathconf(candidate, name)
        except FileNotFoundError:
            continue
        except (OSError, ValueError, AttributeError):
            break
    return default


def _check_lengths(option: str, given: str, target: Path, output: Output) -> None:
    folder = target.parent
    name_max = _limit(folder, "PC_NAME_MAX", DEFAULT_NAME_MAX)
    path_max = _limit(folder, "PC_PATH_MAX", DEFAULT_PATH_MAX)
    extra = TEMPORARY_EXTRA + (BLENDER_EXTRA if output.by_blender else 0)
    name_bytes = len(os.fsencode(target.name))
    if name_bytes + extra > name_max:
        room = name_max - extra - len(os.fsencode(target.suffix))
        raise SettingsError(
            option,
            f"{given}: the name is too long: with LeanRoute's temporary name "
            f"(.<name>.tmp-<pid>{target.suffix}) it would be {name_bytes + extra} bytes, and "
            f"this disk takes at most {name_max}; shorten it to {room} bytes before "
            f"{target.suffix}",
        )
    path_bytes = len(os.fsencode(str(target))) + extra
    limit, whose = path_max - 1, "the file system"
    if output.by_blender and limit > BLENDER_PATH_MAX:
        limit, whose = BLENDER_PATH_MAX, "Blender"
    if path_bytes > limit:
        raise SettingsError(
            option,
            f"{given}: the path is too long: with LeanRoute's temporary name it would be "
            f"{path_bytes} bytes, and {whose} takes at most {limit}; use a shorter folder or name",
        )


def _check_new_folder_names(option: str, existing: Path, folder: Path) -> None:
    name_max = _limit(existing, "PC_NAME_MAX", DEFAULT_NAME_MAX)
    for part in folder.relative_to(existing).parts:
        if len(os.fsencode(part)) > name_max:
            raise SettingsError(
                option,
                f"{folder}: the folder name {part[:40]!r}… is {len(os.fsencode(part))} bytes, "
                f"and this disk takes at most {name_max}; use a shorter name",
            )
    path_max = _limit(existing, "PC_PATH_MAX", DEFAULT_PATH_MAX)
    if len(os.fsencode(str(folder))) >= path_max:
        raise SettingsError(
            option,
            f"{folder}: the path is too long (at most {path_max - 1} bytes); use a shorter one",
        )


def _suggest(path: Path, suffix: str) -> str:
    """``a`` -> ``a.blend``, ``a.json`` -> ``a.blend``: the name the user most likely meant."""
    known = {".blend", ".json", ".osm", ".gpx", ".csv", ".txt", ""}
    name = path.stem if path.suffix.lower() in known else path.name
    return str(path.with_name(name + suffix))
