"""Every operator: a label, a tooltip, a poll where it can fail, the right undo flags, in F3."""

import bpy
import pytest

from leanroute import operators
from leanroute.panels.menu import MENU_ITEMS, MENU_VARIANTS

pytestmark = pytest.mark.binary_compatible

# Operators that change Blender data push an undo step; the others must not (a memory
# button or a file export in the undo history would only be noise).
CHANGES_DATA = {
    "leanroute.build",
    "leanroute.clear",
    "leanroute.waypoint_add",
    "leanroute.waypoint_remove",
    "leanroute.waypoint_move",
    "leanroute.waypoint_from_cursor",
    "leanroute.remove_build_orphans",
    "leanroute.purge_all_orphans",
    "leanroute.leak_check",
}
# Operators that can run in any state, so they have no poll to grey them out.
ALWAYS_AVAILABLE = {"leanroute.collect_garbage", "leanroute.return_memory"}


def _description(cls) -> str:
    return getattr(cls, "bl_description", "") or (cls.__doc__ or "")


@pytest.mark.parametrize("cls", operators.classes, ids=lambda c: c.bl_idname)
def test_each_operator_is_labelled_described_and_polled(cls):
    assert cls.bl_idname.startswith("leanroute.")
    assert cls.bl_label and cls.bl_label[0].isupper()
    assert len(_description(cls)) > 20, "the tooltip should say what it does"
    assert "INTERNAL" not in cls.bl_options, "internal operators are hidden from F3"
    assert ("UNDO" in cls.bl_options) == (cls.bl_idname in CHANGES_DATA)
    assert "REGISTER" in cls.bl_options  # reports reach the Info editor
    has_poll = "poll" in vars(cls)
    assert has_poll != (cls.bl_idname in ALWAYS_AVAILABLE)


def test_every_operator_is_in_the_menu_so_f3_finds_it():
    listed = {item[0] for item in MENU_ITEMS if item} | {v[0] for v in MENU_VARIANTS}
    assert listed == {cls.bl_idname for cls in operators.classes}


def test_the_menu_hangs_under_object_once_registered(addon_scene):
    from leanroute.panels.menu import draw_in_object_menu

    assert draw_in_object_menu in bpy.types.VIEW3D_MT_object._dyn_ui_initialize()
    assert hasattr(bpy.types, "LEANROUTE_MT_main")
    # Every listed operator exists once registered.
    for item in MENU_ITEMS:
        if item:
            module, name = item[0].split(".")
            assert hasattr(getattr(bpy.ops, module), name)
