# SPDX-License-Identifier: GPL-3.0-or-later
"""The Memory panel: memory now, cleanup buttons, the last build's stages, largest data."""

import bpy

from ..memory import idle_clean
from ..memory.growth import LeakCheckReport
from ..memory.largest_datablocks import largest_datablocks
from ..memory.units import format_bytes
from ..operators.stored_report import parse_json, parse_report
from ..properties.addon_preferences import get_preferences
from . import live_memory, visibility
from .sidebar import SidebarPanel
from .stage_table import draw_compact, is_wide


def _figure(layout, label: str, value: str, icon: str = "NONE") -> None:
    row = layout.row()
    row.label(text=label, icon=icon)
    row.label(text=value)


class LEANROUTE_PT_memory(SidebarPanel, bpy.types.Panel):
    """Memory of this Blender process now, and buttons to give it back"""

    bl_idname = "LEANROUTE_PT_memory"
    bl_label = "Memory"

    def draw(self, context):
        prefs = get_preferences(context)
        figures = live_memory.current(max_age=float(prefs.panel_refresh_s) * 0.9)
        visibility.mark_drawn(self.bl_idname)
        layout = self.layout

        column = layout.column(align=True)
        _figure(column, "RSS", format_bytes(figures.rss))
        _figure(column, "USS", format_bytes(figures.uss))
        _figure(column, "Blender", format_bytes(figures.blender))
        undo = figures.undo
        limit = undo.get("undo_memory_limit_mb", 0)
        # Blender gives Python the undo limits only, not the memory undo holds.
        steps = f"{undo.get('undo_steps', 0)} steps" + (f", ≤{limit} MiB" if limit else "")
        _figure(column, "Undo", steps)
        _figure(column, "Live BMeshes", str(figures.live_bmeshes))
        orphans = figures.orphans
        _figure(column, "Orphans", str(sum(orphans.values())) if orphans else "none")
        for name, count in sorted(orphans.items()):
            _figure(column, f"    {name}", str(count))
        if figures.caches:
            column.separator()
            for stats in figures.caches:
                _figure(column, stats.name, f"{stats.entries}, {format_bytes(stats.bytes)}")
        column.label(text=f"measured in {figures.seconds * 1000:.1f} ms")

        grid = layout.grid_flow(columns=2, even_columns=True, align=True)
        grid.operator("leanroute.collect_garbage", icon="TRASH")
        grid.operator("leanroute.return_memory", icon="EXPORT")
        grid.operator("leanroute.remove_build_orphans", icon="ORPHAN_DATA")
        grid.operator("leanroute.purge_all_orphans", icon="ERROR")
        layout.operator("leanroute.export_report", icon="FILE_TEXT")

        row = layout.row()
        if hasattr(prefs, "bl_rna"):
            row.prop(prefs, "auto_clean")
        else:
            row.label(text="Enable the add-on for idle auto-clean", icon="INFO")
        if getattr(prefs, "auto_clean", False):
            decision = idle_clean.last_decision()
            if decision is not None and not decision.clean:
                layout.label(text=decision.reason, icon="INFO")
        result = idle_clean.last_result()
        if result is not None:
            layout.label(text=result.summary())


class LEANROUTE_PT_memory_stages(SidebarPanel, bpy.types.Panel):
    """Memory of each stage of the last build: before, peak, after, freed by cleanup"""

    bl_idname = "LEANROUTE_PT_memory_stages"
    bl_label = "Stages of the Last Build"
    bl_parent_id = "LEANROUTE_PT_memory"

    def draw(self, context):
        layout = self.layout
        job = context.window_manager.leanroute_job
        text = job.report_json if job.running else context.scene.leanroute.last_report
        report = parse_report(text)
        if report is None or not report.stages:
            visibility.mark_drawn(self.bl_idname, stage_rows=0)
            layout.label(text="No build yet", icon="INFO")
            return
        rows = draw_compact(layout.column(align=True), report, wide=is_wide(context))
        visibility.mark_drawn(self.bl_idname, stage_rows=rows)
        layout.operator("leanroute.show_stage_table", icon="PRESET")


class LEANROUTE_PT_memory_leak_check(SidebarPanel, bpy.types.Panel):
    """Rebuild several times and see whether memory grows"""

    bl_idname = "LEANROUTE_PT_memory_leak_check"
    bl_label = "Leak Check"
    bl_parent_id = "LEANROUTE_PT_memory"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        inputs = context.scene.leanroute
        row = layout.row(align=True)
        row.prop(inputs, "leak_check_runs")
        row.operator("leanroute.leak_check", icon="VIEWZOOM")
        data = parse_json(inputs.last_leak_check)
        if data is None:
            return
        report = LeakCheckReport(
            **{k: v for k, v in data.items() if k in LeakCheckReport.__dataclass_fields__}
        )
        column = layout.column(align=True)
        column.alert = not report.flat
        column.label(
            text=f"{report.verdict.upper()} over {report.runs} rebuilds",
            icon="CHECKMARK" if report.flat else "ERROR",
        )
        growth = report.growth
        _figure(column, "RSS / run", format_bytes(growth.get("rss"), signed=True))
        _figure(column, "Blender / run", format_bytes(growth.get("blender"), signed=True))
        _figure(column, "Data-blocks / run", f"{growth.get('datablocks', 0):+.2f}")
        _figure(column, "BMeshes / run", f"{growth.get('live_bmeshes', 0):+.2f}")
        for reason in report.reasons:
            column.label(text=reason)


class LEANROUTE_PT_memory_largest(SidebarPanel, bpy.types.Panel):
    """The meshes, curves and images that hold the most memory, and who uses them"""

    bl_idname = "LEANROUTE_PT_memory_largest"
    bl_label = "Largest Data-Blocks"
    bl_parent_id = "LEANROUTE_PT_memory"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        found = largest_datablocks_cached(float(get_preferences(context).panel_refresh_s))
        if not found:
            layout.label(text="No meshes, curves or images")
            return
        column = layout.column(align=True)
        for item in found:
            row = column.row()
            icon = {"meshes": "MESH_DATA", "images": "IMAGE_DATA", "curves": "CURVE_DATA"}
            row.label(text=item.name, icon=icon.get(item.kind, "DOT"))
            row.label(text=format_bytes(item.estimated_bytes))
            users = ", ".join(item.user_names[:2]) or "no users"
            if len(item.user_names) > 2:
                users += f" +{len(item.user_names) - 2}"
            sub = column.row()
            sub.enabled = False
            sub.label(text=f"    {item.users} user(s): {users}")
        layout.label(text="sizes are estimates", icon="INFO")


def largest_datablocks_cached(max_age: float):
    """largest_datablocks(), measured again at most every few refresh intervals."""
    return live_memory.cached("largest", max_age * 5, lambda: largest_datablocks(limit=8))
