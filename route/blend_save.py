"""Save the current Blender file to a path atomically."""

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

import bpy

from .atomic_files import atomic_target
from .blend_size import estimate_blend_bytes


def save_blend_atomic(path: Path) -> Path:
    """Save a copy of the open file as *path* (temporary name, then rename).

    ``copy=True`` leaves the session's own file path and dirty state alone, so saving a
    build never retargets the user's open file.
    """
    path = Path(path)
    # The estimate is asked for only if the save fails: a full disk's message gives it.
    with atomic_target(path, needed=estimate_blend_bytes) as temporary:
        save_blend_copy(temporary, path)
    return path


def save_blend_copy(temporary: Path, path: Path) -> None:
    """Save a copy of the open file as *temporary*, the file that will become *path*.

    For a caller that renames it itself (a build's outputs are renamed together at its end:
    :mod:`.output_commit`); ``copy=True`` as in :func:`save_blend_atomic`.
    """
    with _blender_output_held_back():
        result = bpy.ops.wm.save_as_mainfile(
            filepath=str(temporary), copy=True, check_existing=False, compress=False
        )
    if "FINISHED" not in result:
        raise OSError(f"Blender could not save {path}")


@contextlib.contextmanager
def _blender_output_held_back():
    """Hold back what Blender prints on stdout while it saves.

    It reports "Info: Saved copy as" the temporary's name, or, for a full disk, a misleading
    "Error: No such file or directory"; the build's summary, or its one error line, says what
    happened to the file the user named.
    """
    sys.stdout.flush()
    try:
        kept = os.dup(1)
    except OSError:  # no stdout file to hold back
        with contextlib.redirect_stdout(io.StringIO()):
            yield
        return
    try:
        # Both ways Blender prints: its C stdio (fd 1) and Python's sys.stdout (reports).
        with tempfile.TemporaryFile() as sink, contextlib.redirect_stdout(io.StringIO()):
            os.dup2(sink.fileno(), 1)
            yield
    finally:
        os.dup2(kept, 1)
        os.close(kept)
