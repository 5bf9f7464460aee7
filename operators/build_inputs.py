# SPDX-License-Identifier: GPL-3.0-or-later
"""The Route panel's fields and the preferences turned into a build's settings."""

from pathlib import Path

import bpy

from ..properties.addon_preferences import (
    cleanup_policy,
    get_preferences,
    memory_budget,
    sampler_interval,
)
from ..route.errors import SettingsError
from ..route.settings import LAYERS, BuildSettings
from .sample_city_file import sample_city


def _path(text: str) -> "Path | None":
    # "//" paths are relative to the open .blend, as everywhere in Blender.
    return Path(bpy.path.abspath(text)).resolve() if text.strip() else None


def settings_from_scene(scene: "bpy.types.Scene") -> BuildSettings:
    """BuildSettings from ``scene.leanroute``; SettingsError naming the field at fault."""
    inputs = scene.leanroute
    waypoints = tuple((point.lat, point.lon) for point in inputs.waypoints)
    if inputs.use_sample_city:
        city = sample_city()
        osm = Path(city.path)
        waypoints = waypoints or city.waypoints
    else:
        osm = _path(inputs.osm_path)
        if osm is None:
            raise SettingsError("OSM file", "choose an .osm file, or tick Use Sample City")
    layers = {name for name in LAYERS if getattr(inputs, f"use_{name}")}
    fps = scene.render.fps / scene.render.fps_base
    frame_end = inputs.frame_end if inputs.timing == "FRAMES" else None
    # BuildSettings checks the rest (waypoint count, car file and object, ranges).
    return BuildSettings(
        osm=osm,
        waypoints=waypoints,
        gpx=_path(inputs.gpx_path),
        snap_gpx=inputs.snap_gpx,
        padding_m=inputs.padding,
        speed_kmh=inputs.speed_kmh,
        fps=max(1, round(fps)),
        frame_start=inputs.frame_start,
        frame_end=frame_end,
        layers=frozenset(layers),
        car_blend=_path(inputs.car_blend),
        car_object=inputs.car_object.strip(),
    )


def build_options(context) -> dict:
    """The SceneBuild keyword arguments the preferences ask for (policy, budget, sampler)."""
    prefs = get_preferences(context)
    return {
        "policy": cleanup_policy(prefs),
        "budget": memory_budget(prefs),
        "sampler_interval": sampler_interval(prefs),
    }
