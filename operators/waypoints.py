# SPDX-License-Identifier: GPL-3.0-or-later
"""Editing the waypoint list: add, remove, reorder, and add at the 3D cursor."""

import bpy

from ..route.build_collection import build_origin, latest_build
from ..route.projection import LocalProjection
from .poll import has_route_inputs


def _inputs(context):
    return context.scene.leanroute


def _insert_after_active(inputs, lat: float, lon: float) -> None:
    points = inputs.waypoints
    point = points.add()
    point.lat, point.lon = lat, lon
    target = min(inputs.waypoint_index + 1, len(points) - 1) if len(points) > 1 else 0
    points.move(len(points) - 1, target)
    inputs.waypoint_index = target


class LEANROUTE_OT_waypoint_add(bpy.types.Operator):
    """Add a waypoint after the selected one (a copy of it, to edit)"""

    bl_idname = "leanroute.waypoint_add"
    bl_label = "Add Waypoint"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return has_route_inputs(cls, context)

    def execute(self, context):
        inputs = _inputs(context)
        points = inputs.waypoints
        if len(points):
            active = points[min(inputs.waypoint_index, len(points) - 1)]
            lat, lon = active.lat, active.lon
        else:
            lat, lon = 0.0, 0.0
        _insert_after_active(inputs, lat, lon)
        return {"FINISHED"}


class LEANROUTE_OT_waypoint_remove(bpy.types.Operator):
    """Remove the selected waypoint"""

    bl_idname = "leanroute.waypoint_remove"
    bl_label = "Remove Waypoint"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if not has_route_inputs(cls, context):
            return False
        if not len(_inputs(context).waypoints):
            cls.poll_message_set("The waypoint list is empty")
            return False
        return True

    def execute(self, context):
        inputs = _inputs(context)
        index = min(inputs.waypoint_index, len(inputs.waypoints) - 1)
        inputs.waypoints.remove(index)
        inputs.waypoint_index = max(min(index, len(inputs.waypoints) - 1), 0)
        return {"FINISHED"}


class LEANROUTE_OT_waypoint_move(bpy.types.Operator):
    """Move the selected waypoint up or down the route"""

    bl_idname = "leanroute.waypoint_move"
    bl_label = "Move Waypoint"
    bl_options = {"REGISTER", "UNDO"}

    direction: bpy.props.EnumProperty(
        name="Direction",
        items=(
            ("UP", "Up", "Earlier in the route"),
            ("DOWN", "Down", "Later in the route"),
        ),
    )

    @classmethod
    def description(cls, context, properties):
        where = "earlier" if properties.direction == "UP" else "later"
        return f"Move the selected waypoint {where} in the route"

    @classmethod
    def poll(cls, context):
        if not has_route_inputs(cls, context):
            return False
        if len(_inputs(context).waypoints) < 2:
            cls.poll_message_set("Needs at least two waypoints")
            return False
        return True

    def execute(self, context):
        inputs = _inputs(context)
        index = min(inputs.waypoint_index, len(inputs.waypoints) - 1)
        target = index - 1 if self.direction == "UP" else index + 1
        if not 0 <= target < len(inputs.waypoints):
            return {"CANCELLED"}
        inputs.waypoints.move(index, target)
        inputs.waypoint_index = target
        return {"FINISHED"}


class LEANROUTE_OT_waypoint_from_cursor(bpy.types.Operator):
    """Add a waypoint where the 3D cursor is, after the selected one"""

    bl_description = (
        "Add a waypoint where the 3D cursor is, after the selected one (uses the map "
        "projection of the current build)"
    )

    bl_idname = "leanroute.waypoint_from_cursor"
    bl_label = "Add Waypoint at 3D Cursor"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if not has_route_inputs(cls, context):
            return False
        if latest_build(context.scene) is None:
            cls.poll_message_set(
                "Build once first: the cursor's position is turned into latitude and "
                "longitude with the build's map projection"
            )
            return False
        return True

    def execute(self, context):
        lat0, lon0 = build_origin(latest_build(context.scene))
        x, y, _z = context.scene.cursor.location
        lat, lon = LocalProjection(lat0, lon0).inverse(x, y)
        _insert_after_active(_inputs(context), float(lat), float(lon))
        self.report({"INFO"}, f"Waypoint added at {float(lat):.6f}, {float(lon):.6f}")
        return {"FINISHED"}
