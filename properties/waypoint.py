# SPDX-License-Identifier: GPL-3.0-or-later
"""One waypoint of the route list: latitude and longitude in degrees."""

import bpy


class LEANROUTE_PG_waypoint(bpy.types.PropertyGroup):
    """A point the route passes through, in WGS84 degrees."""

    # Blender float properties are single precision: about 0.5 m at these magnitudes,
    # well inside the distance a waypoint is snapped to its road anyway.
    lat: bpy.props.FloatProperty(
        name="Latitude",
        description="Latitude of the waypoint in degrees (north positive)",
        min=-89.9,
        max=89.9,
        precision=6,
        step=1,
    )
    lon: bpy.props.FloatProperty(
        name="Longitude",
        description="Longitude of the waypoint in degrees (east positive)",
        min=-180.0,
        max=180.0,
        precision=6,
        step=1,
    )
