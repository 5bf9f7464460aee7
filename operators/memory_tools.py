# SPDX-License-Identifier: GPL-3.0-or-later
"""The Memory panel's cleanup buttons: garbage, orphans, purge, return memory to the OS."""

import gc

import bpy

from ..memory.datablock_owner import purge_all_orphans, remove_tagged_orphans
from ..memory.heap_trim import return_memory_to_os
from ..memory.process_memory import rss_bytes
from ..memory.units import format_bytes, format_count_by_type
from ..route.build_collection import BUILD_TAG_KEYS
from .poll import not_building


def _rss_change(before: "int | None") -> str:
    after = rss_bytes()
    if before is None or after is None:
        return ""
    return f"; RSS {format_bytes(before)} → {format_bytes(after)}"


class LEANROUTE_OT_collect_garbage(bpy.types.Operator):
    """Run Python's garbage collector (all generations) and show what it found"""

    bl_idname = "leanroute.collect_garbage"
    bl_label = "Collect Garbage"
    bl_options = {"REGISTER"}

    def execute(self, context):
        before = rss_bytes()
        found = gc.collect()
        self.report(
            {"INFO"}, f"Garbage collected: {found} unreachable objects{_rss_change(before)}"
        )
        return {"FINISHED"}


class LEANROUTE_OT_remove_build_orphans(bpy.types.Operator):
    """Remove data-blocks that LeanRoute builds created and nothing uses any more"""

    bl_description = (
        "Remove data-blocks that LeanRoute builds created and nothing uses any more. Your "
        "own unused data is never touched, nor your copies of LeanRoute's data"
    )

    bl_idname = "leanroute.remove_build_orphans"
    bl_label = "Remove Build Orphans"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return not_building(cls, context)

    def execute(self, context):
        removed = remove_tagged_orphans(BUILD_TAG_KEYS)
        self.report({"INFO"}, f"Build orphans removed: {format_count_by_type(removed)}")
        return {"FINISHED"}


class LEANROUTE_OT_purge_all_orphans(bpy.types.Operator):
    """Delete every unused data-block in the file, yours included"""

    bl_description = (
        "Delete every unused data-block in the file, yours included (meshes, materials, "
        "images... with no users and no fake user), recursively. Asks first"
    )

    bl_idname = "leanroute.purge_all_orphans"
    bl_label = "Purge All Orphans"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return not_building(cls, context)

    def invoke(self, context, event):
        # Blender 4.1+ lets the confirmation say what is at stake.
        try:
            return context.window_manager.invoke_confirm(
                self,
                event,
                title="Purge All Orphans?",
                message="Deletes every unused data-block in the file, including your own "
                "unused meshes, materials and images.",
                confirm_text="Purge",
                icon="WARNING",
            )
        except TypeError:
            return context.window_manager.invoke_confirm(self, event)

    def execute(self, context):
        removed = purge_all_orphans()
        self.report({"INFO"}, f"Purged {removed} unused data-block(s) from the file")
        return {"FINISHED"}


class LEANROUTE_OT_return_memory(bpy.types.Operator):
    """Hand memory that Blender and Python have freed back to the operating system"""

    bl_description = (
        "Hand memory that Blender and Python have freed back to the operating system "
        "(malloc_trim / jemalloc purge), so the process's RSS goes down"
    )

    bl_idname = "leanroute.return_memory"
    bl_label = "Return Memory to OS"
    bl_options = {"REGISTER"}

    def execute(self, context):
        trim = return_memory_to_os()
        if not trim.supported:
            self.report({"WARNING"}, f"Cannot return memory here: {trim.note}")
            return {"CANCELLED"}
        self.report(
            {"INFO"}, f"Returned {format_bytes(trim.rss_freed_bytes)} to the OS ({trim.note})"
        )
        return {"FINISHED"}
