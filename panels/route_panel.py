# SPDX-License-Identifier: GPL-3.0-or-later
"""The Route panel: what to build, and the Build / Clear / Save As buttons."""

import bpy

from ..route.build_collection import all_builds
from . import visibility
from .progress_bar import draw_progress
from .sidebar import SidebarPanel


class LEANROUTE_PT_route(SidebarPanel, bpy.types.Panel):
    """Map, route, timing, layers and car of the route scene"""

    bl_idname = "LEANROUTE_PT_route"
    bl_label = "Route"

    def draw(self, context):  # noqa: PLR0915 - one statement per field, top to bottom
        inputs = context.scene.leanroute
        job = context.window_manager.leanroute_job
        visibility.mark_drawn(self.bl_idname, running=job.running)
        self.layout.use_property_split = True
        self.layout.use_property_decorate = False
        # Inputs are read when the build starts: greyed out while it runs.
        layout = self.layout.column()
        layout.enabled = not job.running

        column = layout.column()
        column.prop(inputs, "use_sample_city")
        sub = column.column()
        sub.active = not inputs.use_sample_city
        sub.prop(inputs, "osm_path")

        layout.label(text="Waypoints (latitude, longitude)")
        row = layout.row()
        row.template_list(
            "LEANROUTE_UL_waypoints", "", inputs, "waypoints", inputs, "waypoint_index", rows=4
        )
        side = row.column(align=True)
        side.operator("leanroute.waypoint_add", icon="ADD", text="")
        side.operator("leanroute.waypoint_remove", icon="REMOVE", text="")
        side.separator()
        side.operator("leanroute.waypoint_move", icon="TRIA_UP", text="").direction = "UP"
        side.operator("leanroute.waypoint_move", icon="TRIA_DOWN", text="").direction = "DOWN"
        side.separator()
        side.operator("leanroute.waypoint_from_cursor", icon="PIVOT_CURSOR", text="")
        if 0 <= inputs.waypoint_index < len(inputs.waypoints):
            active = inputs.waypoints[inputs.waypoint_index]
            column = layout.column(align=True)
            column.prop(active, "lat")
            column.prop(active, "lon")

        column = layout.column()
        column.prop(inputs, "gpx_path")
        if inputs.gpx_path.strip():
            column.prop(inputs, "snap_gpx")
        column.prop(inputs, "padding")
        column.prop(inputs, "timing")
        column.prop(inputs, "frame_start")
        if inputs.timing == "FRAMES":
            column.prop(inputs, "frame_end")
        else:
            column.prop(inputs, "speed_kmh", text="km/h")

        column = layout.column(heading="Layers")
        column.prop(inputs, "use_roads")
        column.prop(inputs, "use_buildings")
        column.prop(inputs, "use_ground")

        column = layout.column(heading="Car")
        column.prop(inputs, "car_blend", text="Car File")
        sub = column.column()
        sub.active = bool(inputs.car_blend.strip())
        sub.prop(inputs, "car_object", text="Object")

        self._draw_buttons(context, job)
        if not inputs.use_sample_city:
            self.layout.label(text="Map data © OpenStreetMap contributors")

    def _draw_buttons(self, context, job):
        layout = self.layout.column()
        layout.use_property_split = False
        if job.running:
            draw_progress(layout, job.fraction, f"{job.stage}…")
            layout.operator("leanroute.cancel_build", icon="CANCEL")
            return
        built = bool(all_builds(context.scene))
        row = layout.row()
        row.scale_y = 1.4
        icon = "FILE_REFRESH" if built else "PLAY"
        row.operator("leanroute.build", text="Rebuild" if built else "Build", icon=icon)
        row = layout.row(align=True)
        row.operator("leanroute.clear", icon="TRASH", text="Clear")
        row.operator("leanroute.save_as", icon="FILE_TICK", text="Save As…")
