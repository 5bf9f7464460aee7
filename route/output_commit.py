"""A build's output files, renamed into place together once all are complete (no bpy).

The save stage writes the .blend and the build's end writes the report, each under
:func:`.atomic_files.atomic_target`'s temporary name; neither is renamed until
:meth:`OutputCommit.commit`, after both are whole. A build stopped before that (a failure,
Ctrl+C, SIGTERM) leaves no new file under a final name and the previous outputs as they
were; :meth:`OutputCommit.discard` removes the temporaries. The renames run with signals
deferred (:func:`.interrupts.deferred`), the report's first, so a .blend is never in
place without its report; after them the build has succeeded.
"""

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from .atomic_files import atomic_target
from .interrupts import deferred, note_saved
from .kill_points import reached


class _Discarded(BaseException):
    """Thrown into a pending temporary's writer: delete it, rename nothing."""


class OutputCommit:
    """Temporaries written and waiting to be renamed into place; see the module's docstring."""

    def __init__(self):
        self._pending: list[tuple[Path, AbstractContextManager]] = []

    @property
    def pending(self) -> list[Path]:
        """The final paths of the complete temporaries waiting for :meth:`commit`."""
        return [path for path, _ in self._pending]

    @contextlib.contextmanager
    def writing(
        self, path: Path, *, needed: "int | Callable[[], int] | None" = None
    ) -> Iterator[Path]:
        """Yield the temporary to write *path* to; once written it waits for :meth:`commit`.

        A failed write raises as :func:`.atomic_files.atomic_target` does (one line naming
        *path*; *needed* bytes for a full disk) and leaves no temporary.
        """
        target = atomic_target(path, needed=needed)
        temporary = target.__enter__()
        try:
            yield temporary
        except BaseException:
            if not target.__exit__(*sys.exc_info()):
                raise
            return
        self._pending.append((Path(path), target))

    def write_text(self, path: Path, text: str) -> None:
        """Write *text* (UTF-8) to *path*'s temporary, flushed to disk, to commit later."""
        data = text.encode("utf-8")
        with self.writing(path, needed=len(data)) as temporary, open(temporary, "wb") as handle:
            reached("temp-started", path)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def commit(self) -> None:
        """Rename every pending temporary into place, the last written first, uninterrupted.

        If one rename fails, the files already renamed by this commit are removed again
        and the other temporaries deleted, so no half set of outputs stays in place.
        """
        renamed: list[Path] = []
        with deferred():
            try:
                while self._pending:
                    path, target = self._pending.pop()
                    target.__exit__(None, None, None)
                    renamed.append(path)
            except BaseException:
                self.discard()
                for path in renamed:
                    # The file written, also when *path* is a link to it (it was followed).
                    Path(os.path.realpath(path)).unlink(missing_ok=True)
                raise
            # In the order a user gave them: the .blend, then its report.
            note_saved(renamed[::-1])

    def discard(self) -> None:
        """Delete every pending temporary; nothing is renamed."""
        while self._pending:
            _, target = self._pending.pop()
            with contextlib.suppress(_Discarded):
                target.__exit__(_Discarded, _Discarded(), None)
