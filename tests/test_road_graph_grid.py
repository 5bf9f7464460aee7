"""The roads' snapping grid holds the cells a segment passes through, not its whole box.

On d7ad699 one 2-node highway reaching 400 km away (a 310-byte file) registered every 64 m
cell of its bounding box: 1.8 GiB and 7 s in the route stage.
"""

import tracemalloc

import numpy as np
import pytest

from leanroute.route.osm_model import NodeTable, OsmData, Way
from leanroute.route.road_graph import GRID_CELL_M, GRID_PIECES_MIN, RoadGraph
from leanroute.route.routing import snap_candidates

pytestmark = pytest.mark.binary_compatible

MIB = 1 << 20


def graph_of(points, ways) -> RoadGraph:
    ids = np.arange(1, len(points) + 1, dtype=np.int64)
    xy = np.asarray(points, np.float64)
    osm = OsmData(
        "roads.osm",
        NodeTable(ids, np.zeros(len(ids)), np.zeros(len(ids))),
        {k: Way(k, tuple(refs), {"highway": "primary"}) for k, refs in enumerate(ways, 1)},
    )
    return RoadGraph.from_osm(osm, xy)


def grid_peak(graph):
    tracemalloc.start()
    try:
        grid = graph._grid
        return grid, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_segment_hundreds_of_km_long_registers_only_the_cells_it_crosses():
    # A city street, and a highway on from it to a node 300 km east and 300 km north.
    graph = graph_of([(0, 0), (100, 0), (300_000, 300_000)], [(1, 2), (2, 3)])
    grid, peak = grid_peak(graph)
    registered = len(grid[-1])
    assert grid[2] == GRID_CELL_M
    assert registered < 4 * (1 + 424_264 / GRID_CELL_M + 1) + 8  # ~4 cells a cell's length
    assert peak < 64 * MIB, peak / MIB  # the box's cells were 22 million
    # Found wherever one stands on it, and not where one does not.
    a, b = np.array([100.0, 0.0]), np.array([300_000.0, 300_000.0])
    for t in (0.0, 0.5, 0.99):
        x, y = a + t * (b - a)
        assert 1 in graph.segments_near(x, y, 30.0).tolist(), t
    assert graph.segments_near(150_000.0, 0.0, 30.0).tolist() == []
    normal = np.array([-(b - a)[1], (b - a)[0]]) / np.hypot(*(b - a))
    x, y = a + 0.5 * (b - a) + 5.0 * normal
    snap = snap_candidates(graph, x, y, 50.0)
    assert snap and snap[0].segment == 1 and snap[0].distance == pytest.approx(5.0)


def test_roads_spread_over_a_continent_widen_the_cells_instead_of_filling_memory():
    # 200 segments each up to 1,000 km long: at 64 m, 2 million pieces; the cells widen.
    rng = np.random.default_rng(19)
    starts = rng.uniform(-1e6, 1e6, (200, 2))
    ends = starts + rng.uniform(-7e5, 7e5, (200, 2))
    points = np.concatenate([starts, ends])
    graph = graph_of(points, [(k + 1, k + 201) for k in range(200)])
    grid, peak = grid_peak(graph)
    assert grid[2] > GRID_CELL_M
    assert len(grid[-1]) <= 4 * GRID_PIECES_MIN
    assert peak < 16 * MIB
    # Every segment is still found from a point on it.
    for k in range(0, 200, 25):
        x, y = (starts[k] + ends[k]) / 2
        assert k in graph.segments_near(x, y, 1.0).tolist()
