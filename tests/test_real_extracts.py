"""The Lisbon, Berlin and Krems extracts build with routes inside them; counts match the files.

Expected numbers come from ../shared/data/README.md (building ways, highway ways, multipolygon
building relations) and from what the files hold beyond it (Krems' 13 old-style courtyard
relations carry ``building`` on their outer way; a few highways are areas or not roads).
"""

import bpy
import numpy as np
import pytest
from helpers.paths import SHARED_DATA
from mathutils import Vector
from mathutils.bvhtree import BVHTree

from leanroute.route.build import SceneBuild
from leanroute.route.building_geometry import collect_buildings
from leanroute.route.osm_parse import read_osm
from leanroute.route.projection import LocalProjection
from leanroute.route.settings import BuildSettings

WHOLE_FILE = 20_000.0  # padding, metres: every building and road of the extract is in the box

# file: (waypoints, buildings built, of which with courtyards, roads built, highway ways)
EXTRACTS = {
    # 189 building ways + 9 multipolygon relations; 1 highway is an elevator.
    "lisbon_avenidas_novas": (((38.7355, -9.1465), (38.7327, -9.1432)), 198, 9, 113, 114),
    # 379 + 32 relations (30 keep courtyards: 2 lost their inner rings to missing members,
    # one never had one); 3 highways are areas, 2 are platforms.
    "berlin_mitte_kreuzberg": (((52.5120, 13.3880), (52.5066, 13.3990)), 411, 30, 468, 473),
    # 1,195 building ways, 13 of them outer rings of old-style courtyard relations.
    "krems": (((48.40768, 15.61074), (48.40685, 15.63098), (48.4059, 15.6565)), 1195, 13, 836, 838),
}


def build(name: str, padding: float = WHOLE_FILE):
    waypoints = EXTRACTS[name][0]
    settings = BuildSettings(
        osm=SHARED_DATA / "osm" / f"{name}.osm", waypoints=waypoints, padding_m=padding
    )
    return SceneBuild(settings).run()


@pytest.mark.parametrize("name", EXTRACTS)
def test_every_building_and_road_of_the_file_is_built(factory_scene, name):
    _, buildings, courtyards, roads, highways = EXTRACTS[name]
    result = build(name)
    assert result.report.ok
    built = result.results["buildings"]
    assert built["built"] == buildings
    assert built["with_holes"] == courtyards
    assert result.results["roads"]["highway_ways"] == highways
    assert result.results["roads"]["built"] == roads
    assert result.results["route"]["length_m"] > 400
    mesh = bpy.data.objects["LeanRoute Buildings"].data
    assert len(mesh.polygons) == built["faces"]
    assert not mesh.validate(), "the bulk-written mesh is valid as written"


@pytest.mark.parametrize("name", EXTRACTS)
def test_the_default_padding_clips_to_the_route(factory_scene, name):
    result = build(name, padding=30.0)
    built = result.results["buildings"]
    assert 0 < built["built"] < EXTRACTS[name][1]
    assert built["outside_box"] > 0


@pytest.mark.parametrize("name", ["lisbon_avenidas_novas", "berlin_mitte_kreuzberg", "krems"])
def test_multipolygon_courtyards_are_holes_in_the_roof(factory_scene, name):
    result = build(name)
    centre = result.results["projection"]["centre"]
    osm = read_osm(SHARED_DATA / "osm" / f"{name}.osm")
    x, y = LocalProjection(*centre).forward(osm.nodes.lat, osm.nodes.lon)
    every = collect_buildings(osm, np.column_stack([x, y])).footprints
    footprints = [f for f in every if f.holes]
    depsgraph = bpy.context.evaluated_depsgraph_get()
    tree = BVHTree.FromObject(bpy.data.objects["LeanRoute Buildings"], depsgraph)
    checked = 0
    for footprint in footprints:
        for hole in footprint.holes:
            inside = _point_inside(hole)
            if inside is None or _covered_by_another(inside, footprint, every):
                continue  # some courtyards hold a building of their own
            hit = tree.ray_cast(Vector((*inside, 1000.0)), Vector((0, 0, -1)))[0]
            assert hit is None, (footprint.osm_id, hit)
            checked += 1
        roof_point = _point_on_roof(footprint)
        if roof_point is not None:
            hit = tree.ray_cast(Vector((*roof_point, 1000.0)), Vector((0, 0, -1)))[0]
            assert hit is not None and hit.z >= footprint.height - 0.01
    assert checked >= len(footprints) // 2


def _covered_by_another(point, footprint, footprints) -> bool:
    from leanroute.route.multipolygon import points_in_polygon

    probe = np.asarray([point])
    return any(
        other is not footprint
        and points_in_polygon(probe, other.outer)[0]
        and not any(points_in_polygon(probe, hole)[0] for hole in other.holes)
        for other in footprints
    )


def _point_inside(ring: np.ndarray):
    """A point strictly inside *ring*: the middle of a triangle-ish probe near its centroid."""
    from leanroute.route.multipolygon import points_in_polygon

    centre = ring.mean(axis=0)
    candidates = [centre] + [(centre + p) / 2 for p in ring]
    for point in candidates:
        if points_in_polygon(np.asarray([point]), ring)[0]:
            return tuple(float(v) for v in point)
    return None


def _point_on_roof(footprint):
    from leanroute.route.multipolygon import points_in_polygon

    outer = footprint.outer
    for a, b in zip(outer, np.roll(outer, -1, axis=0), strict=True):
        # Just inside the outer wall, away from every hole.
        mid = (a + b) / 2
        normal = np.array([-(b - a)[1], (b - a)[0]])
        length = np.hypot(*normal)
        if length < 1.0:
            continue
        point = mid + normal / length * 0.3
        if points_in_polygon(np.asarray([point]), outer)[0] and not any(
            points_in_polygon(np.asarray([point]), hole)[0] for hole in footprint.holes
        ):
            return tuple(float(v) for v in point)
    return None
