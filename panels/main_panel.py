# SPDX-License-Identifier: GPL-3.0-or-later
"""The top-level LeanRoute panel; later panels hang under it as sub-panels."""

import bpy

from .sidebar import CATEGORY, REGION_TYPE, SPACE_TYPE


class LEANROUTE_PT_main(bpy.types.Panel):
    """LeanRoute: build a route scene and watch its memory"""

    bl_idname = "LEANROUTE_PT_main"
    bl_label = "LeanRoute"
    bl_space_type = SPACE_TYPE
    bl_region_type = REGION_TYPE
    bl_category = CATEGORY

    def draw(self, context):
        layout = self.layout
        # Short lines: the sidebar is narrow and truncates long labels in the middle.
        layout.label(text="No route built yet", icon="INFO")
        layout.label(text="© OpenStreetMap contributors")
