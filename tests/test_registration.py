"""register()/unregister() on real Blender: the sidebar tab appears, and nothing stays behind."""

import addon_utils
import bpy
import pytest
from helpers.blender_state import diff, snapshot

import leanroute

pytestmark = pytest.mark.binary_compatible


def _raise(error: Exception) -> None:
    raise error


def _object_menu_draw_functions() -> list:
    return list(bpy.types.VIEW3D_MT_object._dyn_ui_initialize())


def test_register_adds_the_sidebar_panels_menu_and_timer():
    from leanroute.panels import menu, refresh_timer

    before = snapshot()
    leanroute.register()
    try:
        added = diff(before, snapshot())
        panels = [bpy.types.LEANROUTE_PT_route, bpy.types.LEANROUTE_PT_memory]
        in_menu = menu.draw_in_object_menu in _object_menu_draw_functions()
        timer = bpy.app.timers.is_registered(refresh_timer._tick)
    finally:
        leanroute.unregister()
    for name in ("LEANROUTE_PT_route", "LEANROUTE_PT_memory", "LEANROUTE_PT_memory_stages"):
        assert f"class added: {name}" in added
    assert "property added: Scene.leanroute" in added
    assert "property added: WindowManager.leanroute_job" in added
    for panel in panels:
        assert (panel.bl_space_type, panel.bl_region_type) == ("VIEW_3D", "UI")
        assert panel.bl_category == "LeanRoute"
    assert [p.bl_label for p in panels] == ["Route", "Memory"]
    assert in_menu and timer
    assert menu.draw_in_object_menu not in _object_menu_draw_functions()


def test_unregister_leaves_nothing_behind():
    before = snapshot()
    leanroute.register()
    leanroute.unregister()
    assert diff(before, snapshot()) == []
    assert not hasattr(bpy.types, "LEANROUTE_PT_route")


def test_enable_and_disable_as_an_add_on_twice():
    before = snapshot()
    for _ in range(2):
        module = addon_utils.enable("leanroute", default_set=True, handle_error=_raise)
        assert module is leanroute
        assert "leanroute" in bpy.context.preferences.addons
        assert hasattr(bpy.types, "LEANROUTE_PT_route")
        prefs = bpy.context.preferences.addons["leanroute"].preferences
        assert prefs is not None and prefs.bl_rna.identifier == "LEANROUTE_AP_preferences"
        addon_utils.disable("leanroute", default_set=True, handle_error=_raise)
        assert diff(before, snapshot()) == []


class _FailingModule:
    """A shell module whose register() fails, to check the rollback."""

    @staticmethod
    def register():
        raise RuntimeError("register failed on purpose")

    @staticmethod
    def unregister():  # pragma: no cover - never registered, so never unregistered
        raise AssertionError("a module that failed to register must not be unregistered")


def test_a_failed_register_rolls_back_what_it_registered(monkeypatch):
    real_modules = leanroute._shell_modules()
    monkeypatch.setattr(leanroute, "_shell_modules", lambda: (*real_modules, _FailingModule))
    before = snapshot()
    with pytest.raises(RuntimeError, match="on purpose"):
        leanroute.register()
    assert diff(before, snapshot()) == []


def test_the_blender_command_is_registered_on_4_2_and_removed_again(capsys):
    from leanroute.cli import blender_command

    leanroute.register()
    try:
        registered = blender_command._handle is not None
        # The function Blender runs for `blender -c leanroute ARGS`.
        code = blender_command._run(["--help"])
    finally:
        leanroute.unregister()
    assert blender_command._handle is None
    assert registered == hasattr(bpy.utils, "register_cli_command")
    assert code == 0
    assert "usage: blender -c leanroute" in capsys.readouterr().out
