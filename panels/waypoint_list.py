# SPDX-License-Identifier: GPL-3.0-or-later
"""The waypoint list of the Route panel."""

import bpy


class LEANROUTE_UL_waypoints(bpy.types.UIList):
    """Waypoints in route order: number, latitude, longitude"""

    bl_idname = "LEANROUTE_UL_waypoints"

    def draw_item(self, context, layout, data, item, icon, active_data, active_prop, index=0):
        row = layout.row(align=True)
        row.label(text=f"{index + 1}", icon="DOT")
        row.prop(item, "lat", text="", emboss=False)
        row.prop(item, "lon", text="", emboss=False)
