# SPDX-License-Identifier: GPL-3.0-or-later
"""The Memory panel's live figures, measured at most once per refresh interval.

Drawing must stay cheap: the panel redraws on every mouse-over. So figures are measured
when they are older than the refresh interval and reused otherwise; the time a
measurement took is kept and shown, so its cost is visible too. Plain figures only.
"""

import time
from dataclasses import dataclass, field

from ..memory.blender_stats import blender_allocated_bytes, orphan_counts, undo_settings
from ..memory.bmesh_ledger import live_bmeshes
from ..memory.cache_registry import all_stats
from ..memory.process_memory import rss_bytes, uss_bytes

# USS walks the process's memory map (milliseconds in a large Blender): read it less often.
_USS_EVERY = 5


@dataclass
class LiveFigures:
    """Memory now, as the panel shows it."""

    rss: "int | None" = None
    uss: "int | None" = None
    blender: "int | None" = None
    live_bmeshes: int = 0
    orphans: dict = field(default_factory=dict)
    caches: list = field(default_factory=list)
    undo: dict = field(default_factory=dict)
    taken_at: float = 0.0
    seconds: float = 0.0  # what measuring cost


_kept: dict[str, tuple[float, object]] = {}


class _Latest:
    figures: "LiveFigures | None" = None
    count: int = 0


def measure(*, uss: bool = True) -> LiveFigures:
    """Measure every figure now (main thread: reads bpy)."""
    started = time.perf_counter()
    figures = LiveFigures(
        rss=rss_bytes(),
        uss=uss_bytes() if uss else None,
        blender=blender_allocated_bytes(),
        live_bmeshes=live_bmeshes(),
        orphans=orphan_counts(),
        caches=all_stats(),
        undo=undo_settings(),
        taken_at=time.monotonic(),
    )
    figures.seconds = time.perf_counter() - started
    return figures


def current(max_age: float) -> LiveFigures:
    """The latest figures, measured again if older than *max_age* seconds."""
    latest = _Latest.figures
    if latest is None or time.monotonic() - latest.taken_at >= max_age:
        read_uss = latest is None or _Latest.count % _USS_EVERY == 0
        fresh = measure(uss=read_uss)
        if not read_uss and latest is not None:
            fresh.uss = latest.uss
        _Latest.figures, _Latest.count = fresh, _Latest.count + 1
    return _Latest.figures


def forget() -> None:
    """Drop the kept figures (on unregister)."""
    _Latest.figures, _Latest.count = None, 0
    _kept.clear()


def cached(key: str, max_age: float, compute):
    """``compute()``'s value, computed again only when older than *max_age* seconds."""
    now = time.monotonic()
    entry = _kept.get(key)
    if entry is None or now - entry[0] >= max_age:
        entry = (now, compute())
        _kept[key] = entry
    return entry[1]
