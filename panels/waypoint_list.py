# SPDX-License-Identifier: GPL-3.0-or-later
"""The waypoint list of the Route panel."""

import bpy


class LEANROUTE_UL_waypoints(bpy.types.UIList):
    """Waypoints in route order: number, latitude, longitude"""

    bl_idname = "LEANROUTE_UL_waypoints"

    def draw_item(self, context, layout, data, item, icon, active_data, active_prop, index=0):
        # Read-only text: two number fields do not fit a narrow sidebar. The selected
        # waypoint is edited in the fields under the list.
        layout.label(text=f"{index + 1}.  {item.lat:.5f}, {item.lon:.5f}")
