"""Whole builds of buildings with huge rings: far below the memory they once took, right shape.

Each file is written here (tests/helpers/big_rings.py): one building multipolygon relation (or
closed way) with a road across it. On d7ad699 the 12,000-node ring with a 12,000-node
courtyard peaked at 2.5 GiB in the buildings stage (an O(n*m) point-in-polygon test).
"""

import math

import bpy
import numpy as np
import pytest
from helpers.big_rings import ROUTE, circle, comb, covers, hole_grid, write_osm

from leanroute.memory.units import MIB
from leanroute.route.build import SceneBuild
from leanroute.route.settings import BuildSettings

pytestmark = pytest.mark.usefixtures("factory_scene")

WAYPOINTS = tuple(tuple(float(v) for v in pair.split(",")) for pair in ROUTE.split(";"))
#: The stage's peak RSS above its start may not pass this (2.5 GiB before the fix).
BOUND = 200 * MIB


def build(path, tmp_path):
    settings = BuildSettings(osm=path, waypoints=WAYPOINTS, padding_m=400.0)
    return SceneBuild(settings).run()


def stage(result, name):
    return next(s for s in result.report.stages if s.name == name)


def grew(result, name) -> int:
    report = stage(result, name)
    return report.peak.rss - report.before.rss


def buildings_mesh():
    """(vertices (V, 3), faces as lists of vertex indices) of the built buildings."""
    mesh = bpy.data.objects["LeanRoute Buildings"].data
    co = np.empty(len(mesh.vertices) * 3, np.float32)
    mesh.vertices.foreach_get("co", co)
    loops = np.empty(len(mesh.loops), np.int32)
    mesh.loops.foreach_get("vertex_index", loops)
    totals = np.empty(len(mesh.polygons), np.int32)
    mesh.polygons.foreach_get("loop_total", totals)
    return co.reshape(-1, 3).astype(np.float64), loops, totals


def roof_triangles(height: float) -> np.ndarray:
    """(T, 3, 2) the triangles lying at *height* (the holed roofs)."""
    co, loops, totals = buildings_mesh()
    starts = np.cumsum(totals) - totals
    tri = starts[totals == 3]
    corners = loops[tri[:, None] + np.arange(3)]
    triangles = co[corners]
    return triangles[np.all(np.isclose(triangles[:, :, 2], height), axis=1)][:, :, :2]


def area(triangles) -> float:
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    return float(np.abs(cross).sum() / 2)


def polygon_area(ring) -> float:
    x, y = np.asarray(ring, float).T
    return abs(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))


def centre_of_build(triangles) -> np.ndarray:
    return (triangles.reshape(-1, 2).min(axis=0) + triangles.reshape(-1, 2).max(axis=0)) / 2


def test_a_12k_node_building_with_a_12k_node_courtyard(tmp_path):
    outer, inner = circle(12000, 150.0), circle(12000, 75.0, clockwise=True)
    result = build(write_osm(tmp_path / "courtyard.osm", [outer], [inner]), tmp_path)
    assert grew(result, "buildings") < BOUND, grew(result, "buildings") / MIB
    found = result.results["buildings"]
    assert (found["built"], found["with_holes"], found["relations"]) == (1, 1, 1)
    co, _, totals = buildings_mesh()
    walls = int((totals == 4).sum())
    assert walls == 24000  # a wall per ring edge, outer and courtyard
    roof = roof_triangles(9.0)
    assert 24000 <= len(roof) <= 24100  # n + 2h - 2, and a few where strips meet
    assert 2 * 24000 + 24000 <= len(co) <= 2 * 24000 + 24100  # walls, then the roof's own
    # The rings as projected: the walls' bottom vertices, outer ring first.
    expected = polygon_area(co[:12000, :2]) - polygon_area(co[12000:24000, :2])
    assert area(roof) == pytest.approx(expected, rel=1e-6)
    centre = centre_of_build(roof)
    assert not covers(roof, centre)  # the courtyard is open
    assert covers(roof, centre + np.array([112.5, 0.0]))  # the roof between the rings is


def test_thousands_of_courtyards_in_one_building(tmp_path):
    outer, holes = circle(64, 300.0), hole_grid(2000, 400.0, 2.0)
    result = build(write_osm(tmp_path / "courtyards.osm", [outer], holes), tmp_path)
    assert grew(result, "buildings") < BOUND
    assert result.results["buildings"]["with_holes"] == 1
    roof = roof_triangles(9.0)
    co, _, _ = buildings_mesh()
    rings = [co[:64, :2]] + [co[64 + 4 * k : 68 + 4 * k, :2] for k in range(2000)]
    expected = polygon_area(rings[0]) - sum(polygon_area(r) for r in rings[1:])
    assert area(roof) == pytest.approx(expected, rel=1e-6)
    centre = centre_of_build(roof)
    per_side = math.ceil(math.sqrt(2000))
    pitch = 400.0 / per_side
    for k in (0, 777, 1999):  # the middle of courtyards is open, between them roofed
        offset = np.array([k % per_side + 0.5, k // per_side + 0.5]) * pitch - 200.0
        assert not covers(roof, centre + offset)
        assert covers(roof, centre + offset + np.array([pitch / 2, 0.0]))


@pytest.mark.parametrize("shape", ["way", "relation with a courtyard", "comb with a courtyard"])
def test_a_50k_node_ring(tmp_path, shape):
    if shape == "way":
        path = write_osm(tmp_path / "ring.osm", [circle(50000, 150.0)], as_way=True)
    elif shape == "relation with a courtyard":
        path = write_osm(
            tmp_path / "ring.osm", [circle(50000, 150.0)], [circle(12, 20.0, clockwise=True)]
        )
    else:
        path = write_osm(
            tmp_path / "ring.osm", [comb(12500, 600.0)], [[(0, -58), (0, -55), (3, -55), (3, -58)]]
        )
    result = build(path, tmp_path)
    assert grew(result, "buildings") < BOUND, grew(result, "buildings") / MIB
    found = result.results["buildings"]
    assert found["built"] == 1 and found["faces"] >= 50000
    _, _, totals = buildings_mesh()
    assert int((totals == 4).sum()) >= 50000  # every wall


def test_a_ring_given_in_20k_pieces_and_a_relation_of_2k_buildings(tmp_path):
    pieces = write_osm(
        tmp_path / "pieces.osm",
        [circle(40000, 150.0)],
        [circle(64, 20.0, clockwise=True)],
        pieces=20000,
    )
    result = build(pieces, tmp_path)
    assert grew(result, "buildings") < BOUND
    found = result.results["buildings"]
    assert (found["built"], found["with_holes"]) == (1, 1)
    assert (found["relations_skipped"], found["holes_dropped"]) == (0, 0)
    bpy.ops.wm.read_factory_settings(use_empty=False)
    centres = [(-300.0 + 13.0 * (k % 45), -300.0 + 13.0 * (k // 45)) for k in range(2000)]
    outers = [circle(8, 5.0, x, y) for x, y in centres]
    inners = [circle(4, 2.0, x, y, clockwise=True) for x, y in centres]
    result = build(write_osm(tmp_path / "campus.osm", outers, inners), tmp_path)
    assert grew(result, "buildings") < BOUND
    found = result.results["buildings"]
    assert (found["built"], found["with_holes"]) == (2000, 2000)
    assert found["holes_dropped"] == 0


def test_every_stage_stays_within_its_forecast_on_costly_files(tmp_path):
    files = {
        "courtyard": write_osm(
            tmp_path / "a.osm", [circle(12000, 150.0)], [circle(12000, 75.0, clockwise=True)]
        ),
        "courtyards": write_osm(
            tmp_path / "b.osm", [circle(64, 300.0)], hole_grid(2000, 400.0, 2.0)
        ),
    }
    for name, path in files.items():
        bpy.ops.wm.read_factory_settings(use_empty=False)
        result = build(path, tmp_path)
        buildings = stage(result, "buildings")
        assert "large roofs with courtyards" in buildings.forecast_basis, name
        for report in result.report.stages:
            if report.forecast:
                assert report.peak.rss - report.before.rss <= report.forecast, (name, report.name)
