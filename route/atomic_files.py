"""Write output files under a temporary name and rename them into place (no bpy).

A killed or failed write never leaves a half-written file under the final name: the
rename is atomic on one file system, so readers see the old file or the whole new one.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import SettingsError


def check_writable(path: Path, setting: str) -> Path:
    """Resolve *path* and refuse it early, before any work, if it cannot be written."""
    path = Path(path).expanduser().resolve()
    if path.is_dir():
        raise SettingsError(setting, f"{path} is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir():
        raise SettingsError(setting, f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise SettingsError(setting, f"the folder {folder} is not writable")
    return path


@contextlib.contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside *path*; on success rename it to *path*, else delete it."""
    path = Path(path)
    # Same folder, so the rename stays on one file system; the suffix keeps the type.
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    # Start from nothing: a leftover of a killed run would make Blender keep a ".blend1" backup.
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    try:
        yield temporary
        if not temporary.exists():
            raise OSError(f"nothing was written to {temporary}")
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_text_atomic(path: Path, text: str) -> None:
    """Write *text* to *path* through a temporary file and an atomic rename."""
    with atomic_target(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def stale_temporaries(path: Path) -> list[Path]:
    """Temporaries of *path* left by processes that no longer run (killed mid-write).

    :func:`atomic_target` names them ``.<stem>.tmp-<pid><suffix>``; one whose process is
    alive belongs to a write in progress and is not listed.
    """
    path = Path(path)
    found = []
    for candidate in path.parent.glob(f".{path.stem}.tmp-*{path.suffix}"):
        pid_text = candidate.name[
            len(f".{path.stem}.tmp-") : len(candidate.name) - len(path.suffix)
        ]
        if pid_text.isdigit() and not _process_alive(int(pid_text)):
            found.append(candidate)
    return found


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
