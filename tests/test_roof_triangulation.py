"""Roofs with courtyards: the right area and holes, in bounded memory and near-linear time."""

import numpy as np
import pytest
from helpers.big_rings import circle, comb, covers, hole_grid
from mathutils.geometry import tessellate_polygon

from leanroute.memory.peak import PeakWindow
from leanroute.memory.process_memory import rss_bytes
from leanroute.route.building_geometry import HoledRoof
from leanroute.route.ring_crossings import estimated_crossings
from leanroute.route.ring_index import RingIndex
from leanroute.route.roof_strips import split_into_strips
from leanroute.route.roof_triangulation import holed_roofs_mesh, triangulate_rings

pytestmark = pytest.mark.binary_compatible

MIB = 1 << 20


def ring_area(ring) -> float:
    x, y = np.asarray(ring, float).T
    return abs(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))


def roof_of(mesh):
    """Points (T, 3, 2) of the roof triangles in *mesh* (MeshArrays of triangles)."""
    corners = mesh.loop_vertices.reshape(-1, 3)
    return mesh.vertices[:, :2].astype(np.float64)[corners]


def areas(triangles) -> np.ndarray:
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    return 0.5 * np.abs(
        (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    )


def check_roof(rings, mesh) -> None:
    """The triangles fill the outer ring minus the holes: area, and every triangle inside."""
    triangles = roof_of(mesh)
    outer, holes = rings[0], rings[1:]
    expected = ring_area(outer) - sum(ring_area(h) for h in holes)
    assert areas(triangles).sum() == pytest.approx(expected, rel=1e-6)
    centroids = triangles.mean(axis=1)
    assert RingIndex([np.asarray(r, float) for r in rings]).contains(centroids).all()
    for hole in holes[:50]:
        assert not covers(triangles, np.mean(hole, axis=0))


def fill(rings, z=9.0):
    mesh, left_open = holed_roofs_mesh([HoledRoof([np.asarray(r, float) for r in rings], z)])
    assert left_open == 0
    assert np.allclose(mesh.vertices[:, 2], z)
    return mesh


def peak_growth(function):
    before = rss_bytes()
    window = PeakWindow().open()
    result = function()
    return result, window.close() - before


def test_a_12k_node_building_with_a_12k_node_courtyard():
    rings = [circle(12000, 150.0), circle(12000, 75.0, clockwise=True)]
    mesh, grew = peak_growth(lambda: fill(rings))
    check_roof(rings, mesh)
    # One triangulation of all 24,000 points held 96 MiB; strips of 4,096 points, a few.
    assert grew < 64 * MIB, grew


def test_thousands_of_courtyards_in_one_roof():
    # Scanfill took 5 s for 16,000 courtyards, its time growing with their square.
    rings = [circle(64, 300.0), *hole_grid(3000, 400.0, 1.0)]
    mesh, grew = peak_growth(lambda: fill(rings))
    check_roof(rings, mesh)
    assert grew < 64 * MIB, grew


def test_a_comb_shaped_outline_and_one_turned_on_its_side():
    # A vertical line crosses the first one's edges twice, a horizontal one 4,000 times.
    upright = [comb(2000, 600.0), [(0, -58), (0, -55), (3, -55), (3, -58)]]
    check_roof(upright, fill(upright))
    sideways = [[(y, x) for x, y in comb(2000, 600.0)][::-1]]
    check_roof(sideways, fill(sideways))


def test_a_courtyard_touching_its_outer_ring_and_one_across_strips():
    outer = [(0, 0), (10, 0), (10, 10), (0, 10)]
    touching = [(0, 0), (0, 5), (5, 5), (5, 0)]
    points, triangles = triangulate_rings([outer, touching])
    assert areas(points[triangles]).sum() == pytest.approx(75.0)
    # Strips of 8 points over a 64-node ring and a courtyard straddling every cut.
    rings = [circle(64, 100.0), circle(40, 60.0, 5.0, 0.0, clockwise=True)]
    strips = split_into_strips(rings, max_points=8)
    assert len(strips) > 8
    area = sum(areas(p[t]).sum() for p, t in (triangulate_rings(s) for s in strips))
    assert area == pytest.approx(ring_area(rings[0]) - ring_area(rings[1]), rel=1e-7)


def test_small_roofs_keep_blenders_quick_filler():
    rings = [[(0, 0), (10, 0), (10, 10), (0, 10)], [(3, 3), (3, 6), (6, 6), (6, 3)]]
    mesh = fill(rings)
    expected = tessellate_polygon([[(x, y, 0.0) for x, y in r] for r in rings])
    assert mesh.face_count == len(expected) == 8
    check_roof(rings, mesh)


def test_a_large_roof_whose_ring_crosses_itself_everywhere_is_left_open_and_counted():
    # Nodes in shuffled order: ~n^2/10 crossings; one triangulation of 3,000 such nodes took
    # 100 s and 4.4 GB. Its walls are still built; the roof is counted as left open.
    ring = np.array(circle(3000, 100.0))[np.random.default_rng(19).permutation(3000)]
    hole = [(0, 0), (0, 1), (1, 1), (1, 0)]
    assert estimated_crossings([ring, hole]) > 100 * 3000
    (mesh, left_open), grew = peak_growth(lambda: holed_roofs_mesh([HoledRoof([ring, hole], 5.0)]))
    assert (left_open, mesh.face_count) == (1, 0)
    assert grew < 64 * MIB
    # A valid large roof beside it is filled, and crossings of valid rings estimate as none.
    good = [circle(3000, 100.0), circle(8, 5.0, clockwise=True)]
    assert estimated_crossings(good) == 0
    both, left_open = holed_roofs_mesh([HoledRoof(good, 5.0), HoledRoof([ring, hole], 5.0)])
    assert left_open == 1 and both.face_count > 3000


def test_each_strip_asks_the_budget_first():
    asked = []
    rings = [circle(12000, 150.0), circle(12000, 75.0, clockwise=True)]
    holed_roofs_mesh([HoledRoof(rings, 9.0)], reserve=lambda *args: asked.append(args))
    assert len(asked) >= 6  # 24,000 points in strips of 4,096
    for nbytes, step, basis in asked:
        assert 0 < nbytes < 64 * MIB
        assert step.startswith("triangulating a strip of") and "of a roof of 24,000" in step
        assert "a point" in basis
