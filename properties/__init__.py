# SPDX-License-Identifier: GPL-3.0-or-later
"""LeanRoute's Blender properties: route inputs on the scene, build status, preferences."""

import bpy

from .addon_preferences import LEANROUTE_AP_preferences
from .build_status import LEANROUTE_PG_build_status
from .route_inputs import LEANROUTE_PG_route_inputs
from .waypoint import LEANROUTE_PG_waypoint

# Registered in this order (a group before the groups that point at it), unregistered in reverse.
classes = (
    LEANROUTE_PG_waypoint,
    LEANROUTE_PG_route_inputs,
    LEANROUTE_PG_build_status,
    LEANROUTE_AP_preferences,
)

_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def register():
    """Register the property groups and hang them on Scene and WindowManager."""
    _register_classes()
    # Saved with the .blend: what to build.
    bpy.types.Scene.leanroute = bpy.props.PointerProperty(type=LEANROUTE_PG_route_inputs)
    # Not saved: what the running build is doing.
    bpy.types.WindowManager.leanroute_job = bpy.props.PointerProperty(
        type=LEANROUTE_PG_build_status
    )


def unregister():
    """Remove the pointers, then the classes."""
    del bpy.types.WindowManager.leanroute_job
    del bpy.types.Scene.leanroute
    _unregister_classes()
