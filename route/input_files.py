# SPDX-License-Identifier: GPL-3.0-or-later
"""Input files must be regular files: refused up front otherwise, never opened (plain Python).

``open()`` on a named pipe (FIFO) blocks until something writes to it, and a character device
such as ``/dev/zero`` or ``/dev/urandom`` never ends: a build, a batch or a forecast that
opens one hangs or reads forever. Every reader of a user's input (OSM, GPX, jobs file, the
car's .blend, the size forecast) asks :func:`check_input_file` first, which looks at the file
with ``os.stat`` (following symlinks, so a link to a device is the device) and refuses a
missing file, a folder, a FIFO, a socket or a device with one clear line naming the file and,
where given, the option or column that named it. :func:`open_input` then opens it without
blocking (``O_NONBLOCK``) and checks the opened file again (``fstat``), so a file swapped for a
FIFO between the check and the open is refused too instead of hanging.
"""

import os
import stat
from pathlib import Path

from .errors import InputFileError

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def kind_of(mode: int) -> str:
    """What a file of st_mode *mode* is, in words ("a folder", "a named pipe (FIFO)", ...)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def check_input_file(path, what: str = "an input file", option: "str | None" = None) -> Path:
    """*path* as an absolute Path if it is an existing regular file (or a link to one).

    Raises :class:`.errors.InputFileError` naming the file, and *option* (e.g. ``--osm``, a
    jobs-file column) when given, for a missing file, a folder, a FIFO, a socket, a device or
    a file that cannot be looked at. *what* names the file expected ("an OSM file").
    """
    given = os.fspath(path)  # messages name the file as the user wrote it
    if "\x00" in str(given):
        raise _error(repr(given), "the path holds a NUL character: no file has that name", option)
    try:
        mode = os.stat(Path(given).expanduser()).st_mode
    except FileNotFoundError:
        raise _error(given, "no such file", option) from None
    except NotADirectoryError:
        raise _error(given, "no such file (a part of its path is a file)", option) from None
    except OSError as error:
        raise _error(given, f"cannot be read: {error.strerror or error}", option) from None
    if not stat.S_ISREG(mode):
        raise _error(given, f"is {kind_of(mode)}, not {what}: give a regular file", option)
    return Path(given).expanduser().absolute()


def open_input(path, what: str = "an input file", option: "str | None" = None):
    """Open the regular file at *path* for reading bytes; refuse anything else without blocking.

    The same checks as :func:`check_input_file`, then the file is opened with ``O_NONBLOCK``
    (opening a FIFO never waits for a writer) and checked again on the open descriptor. Returns
    a binary file object; the caller closes it.
    """
    given = os.fspath(path)
    path = check_input_file(given, what, option)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise _error(given, "no such file", option) from None
    except OSError as error:
        raise _error(given, f"cannot be opened: {error.strerror or error}", option) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _error(given, f"is {kind_of(mode)}, not {what}: give a regular file", option)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: plain reads from here on
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _error(path: str, message: str, option: "str | None") -> InputFileError:
    return InputFileError(path, f"{message} ({option})" if option else message)
