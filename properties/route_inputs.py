# SPDX-License-Identifier: GPL-3.0-or-later
"""What to build, kept on the scene (saved with the .blend): the Route panel's fields."""

import bpy

from ..route.settings import RANGES
from .waypoint import LEANROUTE_PG_waypoint

# The limits and defaults of the numeric fields are the build settings' own (RANGES).
_PADDING, _SPEED = RANGES["padding_m"], RANGES["speed_kmh"]
_START, _END = RANGES["frame_start"], RANGES["frame_end"]


def _fill_demo_route(self, context):
    # Ticking "use sample city" with no waypoints gives the sample city's demo route, so
    # one click on Build works.
    if self.use_sample_city and len(self.waypoints) == 0:
        from ..operators.sample_city_file import sample_city

        for lat, lon in sample_city().waypoints:
            point = self.waypoints.add()
            point.lat, point.lon = lat, lon
        self.waypoint_index = 0


class LEANROUTE_PG_route_inputs(bpy.types.PropertyGroup):
    """Inputs of a route build: map, route, timing, layers and car."""

    use_sample_city: bpy.props.BoolProperty(
        name="Use Sample City",
        description=(
            "Build LeanRoute's generated sample city (a made-up town, no download needed) "
            "instead of an OSM file; an empty waypoint list gets its demo route"
        ),
        update=_fill_demo_route,
    )
    osm_path: bpy.props.StringProperty(
        name="OSM File",
        description="OpenStreetMap XML file (.osm) to build the city from",
        subtype="FILE_PATH",
    )
    waypoints: bpy.props.CollectionProperty(type=LEANROUTE_PG_waypoint)
    waypoint_index: bpy.props.IntProperty(
        name="Active Waypoint", description="The waypoint selected in the list", min=0
    )
    gpx_path: bpy.props.StringProperty(
        name="GPX Track",
        description="Optional recorded track (.gpx): when set, the car follows it instead of "
        "the waypoints",
        subtype="FILE_PATH",
    )
    snap_gpx: bpy.props.BoolProperty(
        name="Snap to Roads",
        description="Match the GPX track onto the road network (off: follow the raw fixes)",
        default=True,
    )
    padding: bpy.props.FloatProperty(
        name="Padding",
        description="How far around the route the city is built",
        default=_PADDING.default,
        min=_PADDING.low,
        max=_PADDING.high,
        soft_max=min(2000.0, _PADDING.high),
        subtype="DISTANCE",
        unit="LENGTH",
    )
    timing: bpy.props.EnumProperty(
        name="Timing",
        description="How the drive is timed",
        items=(
            ("SPEED", "Speed", "Drive at a constant speed from the start frame"),
            ("FRAMES", "Frame Range", "Fit the drive into a frame range"),
        ),
        default="SPEED",
    )
    speed_kmh: bpy.props.FloatProperty(
        name="Speed",
        description="Car speed in km/h",
        default=_SPEED.default,
        min=_SPEED.low,
        max=_SPEED.high,
        soft_max=min(200.0, _SPEED.high),
        precision=1,
    )
    frame_start: bpy.props.IntProperty(
        name="Start",
        description="First frame of the drive",
        default=_START.default,
        min=_START.low,
        max=_START.high,
    )
    frame_end: bpy.props.IntProperty(
        name="End",
        description="Last frame of the drive (Frame Range timing)",
        default=250,
        min=_END.low,
        max=_END.high,
    )
    use_roads: bpy.props.BoolProperty(
        name="Roads", description="Build the road network", default=True
    )
    use_buildings: bpy.props.BoolProperty(
        name="Buildings", description="Build the buildings", default=True
    )
    use_ground: bpy.props.BoolProperty(
        name="Ground", description="Build a ground plane", default=True
    )
    car_blend: bpy.props.StringProperty(
        name="Car File",
        description="Optional .blend file holding the car to use (empty: a simple built-in car)",
        subtype="FILE_PATH",
    )
    car_object: bpy.props.StringProperty(
        name="Car Object", description="Name of the car object inside the car file"
    )
    last_report: bpy.props.StringProperty(
        name="Last Report",
        description="Memory report of the last build (JSON)",
        options={"HIDDEN"},
    )
    last_leak_check: bpy.props.StringProperty(
        name="Last Leak Check",
        description="Result of the last leak check (JSON)",
        options={"HIDDEN"},
    )
    leak_check_runs: bpy.props.IntProperty(
        name="Runs",
        description="How many rebuilds the leak check measures (after one warm-up build)",
        default=5,
        min=2,
        soft_max=20,
    )
