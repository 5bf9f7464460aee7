# SPDX-License-Identifier: GPL-3.0-or-later
"""A wide popup with every column of the last build's per-stage table."""

import bpy

from ..panels.stage_table import draw_full
from .stored_report import parse_report


class LEANROUTE_OT_show_stage_table(bpy.types.Operator):
    """Show every column of the last build's memory table"""

    bl_description = (
        "Show every column of the last build's memory table: time, RSS before, peak and "
        "after, the change in RSS and in Blender's allocator, what cleanup freed, leaks "
        "swept"
    )

    bl_idname = "leanroute.show_stage_table"
    bl_label = "Full Stage Table"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        if context.scene is None or not getattr(context.scene, "leanroute", None):
            return False
        if parse_report(context.scene.leanroute.last_report) is None:
            cls.poll_message_set("Build once: there is no report yet")
            return False
        return True

    def invoke(self, context, event):
        return context.window_manager.invoke_popup(self, width=760)

    def draw(self, context):
        report = parse_report(context.scene.leanroute.last_report)
        if report is not None:
            draw_full(self.layout, report)

    def execute(self, context):
        # From a script: print the table (there is no popup without a window).
        report = parse_report(context.scene.leanroute.last_report)
        print(report.table())
        return {"FINISHED"}
