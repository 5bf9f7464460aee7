"""Register LeanRoute for a test on a fresh factory scene, and unregister it afterwards."""

import contextlib

import bpy

import leanroute
from helpers.scene import factory_scene


@contextlib.contextmanager
def registered_on_factory_scene():
    """A factory scene with LeanRoute registered (not enabled as an add-on: default prefs)."""
    factory_scene()
    leanroute.register()
    try:
        yield bpy.context.scene
    finally:
        leanroute.unregister()
        factory_scene()


def use_sample_city(scene) -> None:
    """Tick Use Sample City, which fills the waypoint list with the demo route."""
    scene.leanroute.use_sample_city = True
    assert len(scene.leanroute.waypoints) >= 2
