# SPDX-License-Identifier: GPL-3.0-or-later
"""When each LeanRoute panel was last drawn, and what it showed (plain Python, no bpy).

Blender calls a panel's ``draw`` only while the panel is on screen (its tab active, not
collapsed), so the last draw time tells the refresh timer whether the Memory panel is
visible, and the UI test what the panels showed. Plain numbers only, never Blender data.
"""

import time

_drawn: dict[str, tuple[float, dict]] = {}


def mark_drawn(panel: str, **facts) -> None:
    """Record that *panel* was drawn now, with optional *facts* (e.g. ``stage_rows=9``)."""
    _drawn[panel] = (time.monotonic(), facts)


def last_drawn(panel: str) -> "float | None":
    """``time.monotonic()`` of *panel*'s last draw, or None if it was never drawn."""
    entry = _drawn.get(panel)
    return entry[0] if entry else None


def facts(panel: str) -> dict:
    """What *panel* reported at its last draw ({} if never drawn)."""
    entry = _drawn.get(panel)
    return dict(entry[1]) if entry else {}


def drawn_within(panel: str, seconds: float) -> bool:
    """True when *panel* was drawn during the last *seconds*."""
    when = last_drawn(panel)
    return when is not None and time.monotonic() - when <= seconds


def forget() -> None:
    """Drop every record (on unregister)."""
    _drawn.clear()
