# SPDX-License-Identifier: GPL-3.0-or-later
"""Where every LeanRoute panel lives: one tab in the 3D View sidebar."""

SPACE_TYPE = "VIEW_3D"
REGION_TYPE = "UI"
CATEGORY = "LeanRoute"


class SidebarPanel:
    """Mix-in placing a panel in the LeanRoute tab of the 3D View sidebar."""

    bl_space_type = SPACE_TYPE
    bl_region_type = REGION_TYPE
    bl_category = CATEGORY
