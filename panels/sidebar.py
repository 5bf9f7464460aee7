# SPDX-License-Identifier: GPL-3.0-or-later
"""Where every LeanRoute panel lives: one tab in the 3D View sidebar."""

SPACE_TYPE = "VIEW_3D"
REGION_TYPE = "UI"
CATEGORY = "LeanRoute"
