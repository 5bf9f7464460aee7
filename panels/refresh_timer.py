# SPDX-License-Identifier: GPL-3.0-or-later
"""Keeps the Memory panel's figures fresh while it is on screen, and costs nothing otherwise.

A ``bpy.app.timers`` function on the main thread: when the Memory panel was drawn
recently (so it is visible), it asks the sidebars to redraw, and the panel measures again
if its figures are older than the refresh interval. When the panel is hidden, it does
nothing but wait.
"""

import bpy

from ..properties.addon_preferences import get_preferences
from . import visibility
from .sidebar import REGION_TYPE, SPACE_TYPE

MEMORY_PANEL = "LEANROUTE_PT_memory"


def _tick() -> float:
    interval = float(get_preferences().panel_refresh_s)
    # Drawn within the last few intervals: still on screen (draw stops when it is hidden).
    if visibility.drawn_within(MEMORY_PANEL, 3 * interval):
        window_manager = bpy.context.window_manager
        for window in window_manager.windows if window_manager else ():
            for area in window.screen.areas:
                if area.type == SPACE_TYPE:
                    for region in area.regions:
                        if region.type == REGION_TYPE:
                            region.tag_redraw()
    return interval


def register() -> None:
    """Start the timer (kept across file loads)."""
    if not bpy.app.timers.is_registered(_tick):
        bpy.app.timers.register(_tick, first_interval=1.0, persistent=True)


def unregister() -> None:
    """Stop the timer."""
    if bpy.app.timers.is_registered(_tick):
        bpy.app.timers.unregister(_tick)
