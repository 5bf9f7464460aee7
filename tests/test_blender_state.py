"""The registration snapshot sees each kind of leftover it claims to check."""

import bpy
import pytest
from helpers.blender_state import diff, snapshot

pytestmark = pytest.mark.binary_compatible

WATCHED = (__name__,)


class LEANROUTE_TEST_PT_probe(bpy.types.Panel):
    bl_label = "Probe"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"

    def draw(self, context):
        pass


def probe_handler(*_args):
    pass


def probe_timer():
    return None


def test_equal_snapshots_have_no_diff():
    assert diff(snapshot(WATCHED), snapshot(WATCHED)) == []


def test_sees_a_registered_class():
    before = snapshot(WATCHED)
    bpy.utils.register_class(LEANROUTE_TEST_PT_probe)
    try:
        assert diff(before, snapshot(WATCHED)) == ["class added: LEANROUTE_TEST_PT_probe"]
    finally:
        bpy.utils.unregister_class(LEANROUTE_TEST_PT_probe)


def test_sees_an_added_property():
    before = snapshot(WATCHED)
    bpy.types.Scene.leanroute_probe = bpy.props.IntProperty()
    try:
        assert diff(before, snapshot(WATCHED)) == ["property added: Scene.leanroute_probe"]
    finally:
        del bpy.types.Scene.leanroute_probe


def test_sees_a_handler_added_twice_and_removed_once():
    before = snapshot(WATCHED)
    bpy.app.handlers.load_post.append(probe_handler)
    bpy.app.handlers.load_post.append(probe_handler)
    bpy.app.handlers.load_post.remove(probe_handler)
    try:
        assert diff(before, snapshot(WATCHED)) == [
            f"handler (load_post) added: {__name__}.probe_handler"
        ]
    finally:
        bpy.app.handlers.load_post.remove(probe_handler)


def test_sees_a_timer():
    before = snapshot(WATCHED)
    bpy.app.timers.register(probe_timer, first_interval=3600)
    try:
        assert diff(before, snapshot(WATCHED)) == [f"timer added: {__name__}.probe_timer"]
    finally:
        bpy.app.timers.unregister(probe_timer)


def test_sees_an_add_on_keymap_item():
    keyconfig = bpy.context.window_manager.keyconfigs.addon
    if keyconfig is None:
        pytest.skip("this Blender has no add-on keyconfig in background mode")
    before = snapshot(WATCHED)
    keymap = keyconfig.keymaps.new(name="3D View", space_type="VIEW_3D")
    item = keymap.keymap_items.new("wm.redraw_timer", "F13", "PRESS")
    try:
        assert diff(before, snapshot(WATCHED)) == ["keymap item added: 3D View: wm.redraw_timer"]
    finally:
        keymap.keymap_items.remove(item)
