"""Return memory that Blender and Python freed to the operating system.

Freed memory stays in the C allocator's heap, so RSS stays high after Blender frees a large
mesh. glibc gives free pages back on ``malloc_trim(0)``; jemalloc (which Blender's Linux
builds, Debian's among them, link in place of malloc) on a purge of all its arenas. Where
neither exists (macOS, Windows, musl) the trim is a no-op that says so.
"""

import ctypes
import ctypes.util
import sys
from dataclasses import dataclass

from .process_memory import rss_bytes

# jemalloc's "all arenas" index (MALLCTL_ARENAS_ALL) in jemalloc 5.
_JEMALLOC_PURGE_ALL = b"arena.4096.purge"


@dataclass(frozen=True)
class TrimResult:
    """What a trim did: whether the platform supports it and the RSS it gave back."""

    supported: bool
    released: bool
    rss_freed_bytes: int
    note: str


def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # musl and other non-glibc C libraries
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def _jemalloc_mallctl():
    # Present in the process's global symbols only when jemalloc is linked in.
    if sys.platform.startswith("win"):
        return None
    try:
        mallctl = ctypes.CDLL(None).mallctl
    except (OSError, AttributeError):
        return None
    mallctl.argtypes = [
        ctypes.c_char_p,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_size_t,
    ]
    mallctl.restype = ctypes.c_int
    return mallctl


_TRIM = _malloc_trim()
_MALLCTL = _jemalloc_mallctl()


def trim_supported() -> bool:
    """True where freed heap can be handed back (glibc or jemalloc)."""
    return _TRIM is not None or _MALLCTL is not None


def trim_method() -> str:
    """Which calls a trim makes here."""
    methods = []
    if _MALLCTL is not None:
        methods.append("jemalloc arena purge")
    if _TRIM is not None:
        methods.append("malloc_trim(0)")
    return " + ".join(methods) or f"none on {sys.platform}"


def return_memory_to_os() -> TrimResult:
    """Purge jemalloc's arenas and call ``malloc_trim(0)`` where present; report the RSS freed."""
    if not trim_supported():
        return TrimResult(False, False, 0, f"no heap trim on {sys.platform}: nothing to do")
    before = rss_bytes() or 0
    released = False
    if _MALLCTL is not None:
        released = _MALLCTL(_JEMALLOC_PURGE_ALL, None, None, None, 0) == 0
    if _TRIM is not None:
        released = bool(_TRIM(0)) or released
    freed = max(before - (rss_bytes() or 0), 0)
    return TrimResult(True, released, freed, trim_method())
