"""Write output files under a temporary name and rename them into place (no bpy).

A killed or failed write never leaves a half-written file under the final name: the
rename is atomic on one file system, so readers see the old file or the whole new one.
"""

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from .errors import SettingsError
from .kill_points import reached


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
        reached("temp-written", path)
        os.replace(temporary, path)
        reached("renamed", path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_text_atomic(path: Path, text: str) -> None:
    """Write *text* to *path* through a temporary file and an atomic rename."""
    with atomic_target(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        reached("temp-started", path)
        handle.write(text)
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
        if parsed is not None and not _process_alive(parsed[1]):
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
