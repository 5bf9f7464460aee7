# SPDX-License-Identifier: GPL-3.0-or-later
"""Object > LeanRoute: every LeanRoute operator in a menu, which is how F3 search finds them."""

import bpy

#: (operator, icon) in menu order; None draws a separator. Tests check every operator is here.
MENU_ITEMS = (
    ("leanroute.build", "PLAY"),
    ("leanroute.cancel_build", "CANCEL"),
    ("leanroute.clear", "TRASH"),
    ("leanroute.save_as", "FILE_TICK"),
    None,
    ("leanroute.waypoint_add", "ADD"),
    ("leanroute.waypoint_remove", "REMOVE"),
    ("leanroute.waypoint_from_cursor", "PIVOT_CURSOR"),
    None,
    ("leanroute.collect_garbage", "TRASH"),
    ("leanroute.remove_build_orphans", "ORPHAN_DATA"),
    ("leanroute.purge_all_orphans", "ERROR"),
    ("leanroute.return_memory", "EXPORT"),
    ("leanroute.leak_check", "VIEWZOOM"),
    ("leanroute.export_report", "FILE_TEXT"),
    ("leanroute.show_stage_table", "PRESET"),
)
#: Operators with a property the menu sets: (operator, property, values).
MENU_VARIANTS = (("leanroute.waypoint_move", "direction", ("UP", "DOWN")),)


class LEANROUTE_MT_main(bpy.types.Menu):
    """LeanRoute: build route scenes and keep memory flat"""

    bl_idname = "LEANROUTE_MT_main"
    bl_label = "LeanRoute"

    def draw(self, context):
        layout = self.layout
        for item in MENU_ITEMS:
            if item is None:
                layout.separator()
                continue
            layout.operator(item[0], icon=item[1])
        for idname, prop, values in MENU_VARIANTS:
            for value in values:
                op = layout.operator(idname, text=f"Move Waypoint {value.title()}")
                setattr(op, prop, value)


def draw_in_object_menu(self, context):
    """Appended to the 3D View's Object menu."""
    self.layout.separator()
    self.layout.menu(LEANROUTE_MT_main.bl_idname)


def register() -> None:
    """Add the submenu to Object."""
    bpy.types.VIEW3D_MT_object.append(draw_in_object_menu)


def unregister() -> None:
    """Remove it again."""
    bpy.types.VIEW3D_MT_object.remove(draw_in_object_menu)
