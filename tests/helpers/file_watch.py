"""Wake up the moment a file appears in a folder (Linux inotify through ctypes, no packages).

A test that must kill a process *while* Blender writes ``….blend@`` (a few milliseconds)
cannot poll for it reliably; an inotify read returns as soon as the kernel creates the file.
"""

import ctypes
import ctypes.util
import fnmatch
import os
import select
import struct
import sys
import time

IN_CREATE = 0x00000100
IN_MOVED_TO = 0x00000080
_EVENT = struct.Struct("iIII")

available = sys.platform.startswith("linux")


class FolderWatch:
    """Files created in any of *folders*, as they come (names only)."""

    def __init__(self, *folders):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self._fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        for folder in folders:
            mask = IN_CREATE | IN_MOVED_TO
            if libc.inotify_add_watch(self._fd, os.fsencode(folder), mask) < 0:
                os.close(self._fd)
                raise OSError(ctypes.get_errno(), f"cannot watch {folder}")

    def wait_for(self, pattern: str, timeout: float, alive=lambda: True) -> "str | None":
        """The name of the first new file matching *pattern*, or None after *timeout* s.

        *alive* is asked between waits: once it says False, None is returned.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and alive():
            ready, _, _ = select.select([self._fd], [], [], 0.05)
            if not ready:
                continue
            data = os.read(self._fd, 65536)
            offset = 0
            while offset < len(data):
                _, _, _, length = _EVENT.unpack_from(data, offset)
                raw = data[offset + _EVENT.size : offset + _EVENT.size + length]
                offset += _EVENT.size + length
                name = raw.rstrip(b"\0").decode("utf-8", "replace")
                if fnmatch.fnmatchcase(name, pattern):
                    return name
        return None

    def close(self) -> None:
        """Stop watching."""
        os.close(self._fd)

    def __enter__(self) -> "FolderWatch":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
