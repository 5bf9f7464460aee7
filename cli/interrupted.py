"""How ``build`` and ``demo`` end on Ctrl+C or SIGTERM: one line, 130 or 143, nothing written.

:func:`.commands.main` handles both signals (:mod:`..route.interrupts`): a signal stops the
command where it can roll back, the build undoes what it made and deletes its temporaries,
and this module prints the one line and gives the exit code. The outputs are renamed into
place together as the build's very last step; a signal after that finds them complete and
the line says so.
"""

import contextlib
import importlib
import os
import shutil
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

from ..route.atomic_files import temporary_path
from ..route.interrupts import (
    Interrupted,
    deferred,
    describe_signal,
    raise_if_interrupted,
    signals_blocked,
)
from ..route.kill_points import reached


def start_blender() -> None:
    """Import ``bpy`` with the signals held back, then stop if one came meanwhile.

    Blender's start-up (a second or so with the ``bpy`` module) is C code and start-up
    scripts that a Python exception or an interrupted system call leaves half done: it
    crashed there. Inside the ``blender`` binary ``bpy`` is already imported.
    """
    with signals_blocked():
        reached("blender-start")
        importlib.import_module("bpy")
    raise_if_interrupted()


def report_interrupt(prog: str, stop: Interrupted, *, debug: bool = False) -> int:
    """Print the one line for *stop* on stderr and return the exit code (130 or 143)."""
    if debug:
        traceback.print_exception(stop)
    print(interrupt_line(prog, stop), file=sys.stderr)
    return stop.exit_code


def interrupt_line(prog: str, stop: Interrupted) -> str:
    """What happened and what is on disk, in one line."""
    how = f"{prog}: interrupted by {describe_signal(stop.signum)}"
    if stop.saved:
        files = ", ".join(str(path) for path in stop.saved)
        return f"{how} after the build was saved; its files are complete: {files}"
    return f"{how}; the build was rolled back and nothing was written"


def missing_folders(folder: Path) -> list[Path]:
    """*folder* and those of its parents that do not exist yet, outermost first."""
    missing = []
    folder = Path(folder).absolute()
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing[::-1]


@contextlib.contextmanager
def put_back_if_interrupted(path: Path, folders: "list[Path]" = ()) -> Iterator[None]:
    """If interrupted before the build is saved, *path* and *folders* are as they were.

    For ``demo``'s ``sample.osm``, written before its build: a previous one comes back (it
    is kept under a hard link meanwhile), a new one is removed, and so are the *folders*
    this run made (:func:`missing_folders`) if they are empty again.
    """
    path = Path(path)
    with deferred():  # not cut between the link and knowing it was made
        kept = _keep(path)
    try:
        yield
    except Interrupted as stop:
        if stop.saved:
            stop.saved = (path, *stop.saved)
        else:
            if kept is not None:
                os.replace(kept, path)
                kept = None
            else:
                path.unlink(missing_ok=True)
            for folder in reversed(folders):
                with contextlib.suppress(OSError):
                    folder.rmdir()
        raise
    finally:
        if kept is not None:
            kept.unlink(missing_ok=True)


def _keep(path: Path) -> "Path | None":
    if not path.is_file():
        return None
    # Named as a temporary of *path*, so what a killed run leaves is recognised as one; with
    # "@" (as Blender's save temporaries), so it is not the name the new file is written to
    # (that would truncate the kept file through the link, and a rename of one hard link
    # onto the other does nothing).
    kept = temporary_path(path).with_name(temporary_path(path).name + "@")
    kept.unlink(missing_ok=True)
    try:
        os.link(path, kept)
    except OSError:  # a file system without hard links
        shutil.copy2(path, kept)
    return kept
