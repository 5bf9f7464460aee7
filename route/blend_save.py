"""Save the current Blender file to a path atomically."""

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
    result = bpy.ops.wm.save_as_mainfile(
        filepath=str(temporary), copy=True, check_existing=False, compress=False
    )
    if "FINISHED" not in result:
        raise OSError(f"Blender could not save {path}")
