# SPDX-License-Identifier: GPL-3.0-or-later
"""The LeanRoute tab in the 3D View sidebar (N-panel) and the Object > LeanRoute menu."""

import bpy

from . import live_memory, menu, refresh_timer, visibility
from .memory_panel import (
    LEANROUTE_PT_memory,
    LEANROUTE_PT_memory_largest,
    LEANROUTE_PT_memory_leak_check,
    LEANROUTE_PT_memory_stages,
)
from .menu import LEANROUTE_MT_main
from .route_panel import LEANROUTE_PT_route
from .waypoint_list import LEANROUTE_UL_waypoints

# Registered in this order (parents before their sub-panels), unregistered in reverse.
classes = (
    LEANROUTE_UL_waypoints,
    LEANROUTE_PT_route,
    LEANROUTE_PT_memory,
    LEANROUTE_PT_memory_stages,
    LEANROUTE_PT_memory_leak_check,
    LEANROUTE_PT_memory_largest,
    LEANROUTE_MT_main,
)

_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def register():
    """Panels, list, menu and the Memory panel's refresh timer."""
    _register_classes()
    menu.register()
    refresh_timer.register()


def unregister():
    """Everything register() did, in reverse; plain figures kept for drawing are dropped."""
    refresh_timer.unregister()
    menu.unregister()
    _unregister_classes()
    live_memory.forget()
    visibility.forget()
