"""Make one allocation that would go past the hard budget fail at once (Linux RLIMIT_DATA).

The sampler stops a stage between Python instructions, so a single C call that allocates
(one large numpy array) runs to its end first: a 1 GB budget was found "stopped" at 2.6 GB.
Inside :func:`allocations_limited`, the process's data segment (``VmData``: heap and private
writable mappings) may grow by at most the headroom left under the budget, so such a
``malloc`` fails before the pages are touched and numpy raises MemoryError at once.

Only for code whose allocations go through ``malloc`` and handle MemoryError: numpy and
Python. Never around Blender's own C code, which may not survive a failed allocation, and
not while Blender's interface runs (other threads share the limit): the caller decides.
"""

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

try:
    import resource
except ImportError:  # Windows: no limit, the sampler alone holds the budget
    resource = None

_STATUS = Path("/proc/self/status")


def supported() -> bool:
    """True where the limit applies to every private mapping (Linux, with /proc)."""
    return resource is not None and sys.platform.startswith("linux") and _data_bytes() is not None


def limit_is_safe() -> bool:
    """True where no interface threads share the process: a background Blender or bpy."""
    try:
        import bpy
    except ImportError:  # plain Python: nothing else of Blender's runs
        return True
    return bool(bpy.app.background)


def _data_bytes() -> "int | None":
    """The process's data segment (VmData), bytes; None where /proc does not say."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


@contextlib.contextmanager
def allocations_limited(headroom: "int | None") -> Iterator[bool]:
    """Inside, the data segment may grow by at most *headroom* bytes; yields True if limited.

    *headroom* None, or a platform without the limit, leaves everything as it was (yields
    False). A lower limit already in force stays. The previous limit is back on exit,
    however the block ends.
    """
    data = _data_bytes() if headroom is not None and supported() else None
    if data is None:
        yield False
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    limit = data + max(int(headroom), 0)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft != resource.RLIM_INFINITY and soft <= limit:
        yield False
        return
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    try:
        yield True
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
