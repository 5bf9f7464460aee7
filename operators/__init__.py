# SPDX-License-Identifier: GPL-3.0-or-later
"""LeanRoute's operators: build, clear, save, waypoints, memory tools, reports."""

import bpy

from .build import LEANROUTE_OT_build, LEANROUTE_OT_cancel_build
from .clear import LEANROUTE_OT_clear
from .export_report import LEANROUTE_OT_export_report
from .leak_check import LEANROUTE_OT_leak_check
from .memory_tools import (
    LEANROUTE_OT_collect_garbage,
    LEANROUTE_OT_purge_all_orphans,
    LEANROUTE_OT_remove_build_orphans,
    LEANROUTE_OT_return_memory,
)
from .save_as import LEANROUTE_OT_save_as
from .show_stage_table import LEANROUTE_OT_show_stage_table
from .waypoints import (
    LEANROUTE_OT_waypoint_add,
    LEANROUTE_OT_waypoint_from_cursor,
    LEANROUTE_OT_waypoint_move,
    LEANROUTE_OT_waypoint_remove,
)

# Registered in this order, unregistered in reverse. The menu (panels/menu.py) lists
# them all, so every one is found by F3 search.
classes = (
    LEANROUTE_OT_build,
    LEANROUTE_OT_cancel_build,
    LEANROUTE_OT_clear,
    LEANROUTE_OT_save_as,
    LEANROUTE_OT_waypoint_add,
    LEANROUTE_OT_waypoint_remove,
    LEANROUTE_OT_waypoint_move,
    LEANROUTE_OT_waypoint_from_cursor,
    LEANROUTE_OT_collect_garbage,
    LEANROUTE_OT_remove_build_orphans,
    LEANROUTE_OT_purge_all_orphans,
    LEANROUTE_OT_return_memory,
    LEANROUTE_OT_leak_check,
    LEANROUTE_OT_export_report,
    LEANROUTE_OT_show_stage_table,
)

register, unregister = bpy.utils.register_classes_factory(classes)
