"""Take a :class:`~.report.Snapshot` of every memory figure now (main thread: reads bpy)."""

import time
import tracemalloc

from .blender_stats import blender_allocated_bytes, datablock_counts
from .bmesh_ledger import live_bmeshes
from .process_memory import rss_bytes, uss_bytes
from .report import Snapshot


def take_snapshot(*, uss: bool = True, datablocks: bool = True) -> Snapshot:
    """Measure every figure now.

    RSS, USS (optional: it costs a few ms), Blender's allocator, the traced Python heap,
    live BMeshes and data-block counts.
    """
    return Snapshot(
        rss=rss_bytes(),
        uss=uss_bytes() if uss else None,
        blender=blender_allocated_bytes(),
        python_heap=tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else None,
        undo=None,
        live_bmeshes=live_bmeshes(),
        datablocks=datablock_counts() if datablocks else {},
        time=time.time(),
    )
