"""The road graph, routing through waypoints, its errors, and snapping tracks onto roads."""

import heapq
import itertools
import time

import numpy as np
import pytest
from helpers.paths import SHARED_DATA

from leanroute.route.clip_box import ClipBox
from leanroute.route.errors import RouteError, SettingsError
from leanroute.route.osm_model import Bounds, NodeTable, OsmData, Way
from leanroute.route.osm_parse import read_osm
from leanroute.route.projection import LocalProjection
from leanroute.route.road_graph import RoadGraph, car_access
from leanroute.route.routing import parse_waypoints, route_waypoints, snap_candidates
from leanroute.route.track_smoothing import match_track, resample, snap_track_to_roads

KREMS = SHARED_DATA / "osm" / "krems.osm"
CENTRE = (48.4, 15.6)


# ---- fixtures -------------------------------------------------------------------------------


class City:
    """An OSM file read, projected and turned into a graph, with the time each step took."""

    def __init__(self, path):
        self.osm = read_osm(path)
        self.projection = LocalProjection.for_bounds(self.osm.bounds)
        start = time.perf_counter()
        self.xy = self.projection.forward_points(
            np.column_stack((self.osm.nodes.lat, self.osm.nodes.lon))
        )
        self.project_s = time.perf_counter() - start
        start = time.perf_counter()
        self.graph = RoadGraph.from_osm(self.osm, self.xy)
        self.build_s = time.perf_counter() - start
        self.core = _strong_core(self.graph)

    def latlon(self, xy):
        return self.projection.inverse_points(xy)


@pytest.fixture(scope="module")
def krems() -> City:
    return City(KREMS)


def _reachable(graph, start, reverse=False):
    src = np.concatenate((graph.seg_a[graph.seg_forward], graph.seg_b[graph.seg_backward]))
    dst = np.concatenate((graph.seg_b[graph.seg_forward], graph.seg_a[graph.seg_backward]))
    if reverse:
        src, dst = dst, src
    adjacency = [[] for _ in range(graph.node_count)]
    for a, b in zip(src.tolist(), dst.tolist(), strict=True):
        adjacency[a].append(b)
    seen, stack = {start}, [start]
    while stack:
        for v in adjacency[stack.pop()]:
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return seen


def _strong_core(graph) -> np.ndarray:
    """Nodes of the strongly connected part around the node nearest the map's centre."""
    centre = int(np.argmin(np.hypot(*graph.xy.T)))
    return np.array(sorted(_reachable(graph, centre) & _reachable(graph, centre, True)))


def _dijkstra(graph, source: int, target: int) -> float:
    """A plain Dijkstra over the CSR arrays: the reference A* must agree with."""
    dist = {source: 0.0}
    heap = [(0.0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if u == target:
            return d
        if d > dist[u]:
            continue
        targets, lengths = graph.neighbours(u)
        for v, w in zip(targets.tolist(), lengths.tolist(), strict=True):
            if d + w < dist.get(v, np.inf):
                dist[v] = d + w
                heapq.heappush(heap, (d + w, v))
    return np.inf


def _grid_city(ways, extra_nodes=()):
    """A tiny OsmData on a 100 m grid: node id -> (x, y) metres, ways as (id, refs, tags)."""
    positions = {
        1: (0.0, 0.0),
        2: (100.0, 0.0),
        3: (100.0, 100.0),
        4: (0.0, 100.0),
        5: (200.0, 0.0),
        6: (300.0, 0.0),
        **dict(extra_nodes),
    }
    ids = np.array(sorted(positions), dtype=np.int64)
    xy = np.array([positions[i] for i in ids], dtype=np.float64)
    projection = LocalProjection(*CENTRE)
    lat, lon = projection.inverse(xy[:, 0], xy[:, 1])
    osm = OsmData(
        path="grid.osm",
        nodes=NodeTable(ids, lat, lon),
        ways={w[0]: Way(w[0], tuple(w[1]), w[2]) for w in ways},
        bounds=Bounds(float(lat.min()), float(lon.min()), float(lat.max()), float(lon.max())),
    )
    return osm, xy, projection


ROAD = {"highway": "residential"}


# ---- which ways are roads -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"highway": "residential"}, (True, True)),
        ({"highway": "primary_link"}, (True, True)),
        ({"highway": "service", "service": "parking_aisle"}, (True, True)),
        ({"highway": "footway"}, None),
        ({"highway": "path"}, None),
        ({"highway": "cycleway"}, None),
        ({"highway": "pedestrian"}, None),
        ({"highway": "steps"}, None),
        ({"highway": "track"}, None),
        ({"highway": "track", "access": "yes"}, None),
        ({"highway": "track", "motor_vehicle": "yes"}, (True, True)),
        ({"highway": "construction"}, None),
        ({"building": "yes"}, None),
        ({"highway": "residential", "access": "private"}, None),
        ({"highway": "residential", "access": "no"}, None),
        ({"highway": "residential", "motor_vehicle": "no"}, None),
        ({"highway": "residential", "access": "no", "motor_vehicle": "yes"}, (True, True)),
        ({"highway": "residential", "motorcar": "no", "motor_vehicle": "yes"}, None),
        ({"highway": "residential", "access": "destination"}, (True, True)),
        ({"highway": "pedestrian", "area": "yes"}, None),
        ({"highway": "service", "area": "yes"}, None),
        ({"highway": "residential", "oneway": "yes"}, (True, False)),
        ({"highway": "residential", "oneway": "true"}, (True, False)),
        ({"highway": "residential", "oneway": "1"}, (True, False)),
        ({"highway": "residential", "oneway": "-1"}, (False, True)),
        ({"highway": "residential", "oneway": "reverse"}, (False, True)),
        ({"highway": "residential", "oneway": "no"}, (True, True)),
        ({"highway": "residential", "oneway": "reversible"}, None),
        ({"highway": "residential", "oneway": "yes", "oneway:motorcar": "no"}, (True, True)),
        ({"highway": "primary", "junction": "roundabout"}, (True, False)),
        ({"highway": "primary", "junction": "circular"}, (True, False)),
        ({"highway": "primary", "junction": "roundabout", "oneway": "no"}, (True, True)),
        ({"highway": "motorway"}, (True, False)),
        ({"highway": "motorway", "oneway": "no"}, (True, True)),
        ({"highway": "motorway_link"}, (True, True)),
    ],
)
def test_car_access(tags, expected):
    assert car_access(tags) == expected


def test_graph_splits_ways_at_missing_nodes():
    osm, xy, _ = _grid_city([(10, [1, 2, 99, 5, 6], ROAD)])  # node 99 is not in the file
    graph = RoadGraph.from_osm(osm, xy)
    assert graph.segment_count == 2  # 1-2 and 5-6; nothing bridges 2..5
    assert sorted(osm.nodes.ids[graph.node_rows].tolist()) == [1, 2, 5, 6]
    assert graph.seg_length.tolist() == pytest.approx([100.0, 100.0])


def test_graph_directed_edges_follow_oneways():
    osm, xy, _ = _grid_city(
        [(10, [1, 2], {**ROAD, "oneway": "yes"}), (11, [2, 3], {**ROAD, "oneway": "-1"})]
    )
    graph = RoadGraph.from_osm(osm, xy)
    ids = osm.nodes.ids[graph.node_rows]
    edges = set()
    for u in range(graph.node_count):
        for v in graph.neighbours(u)[0].tolist():
            edges.add((int(ids[u]), int(ids[v])))
    assert edges == {(1, 2), (3, 2)}
    assert graph.edge_count == 2


def test_empty_graph():
    osm, xy, _ = _grid_city([(10, [1, 2], {"highway": "footway"})])
    graph = RoadGraph.from_osm(osm, xy)
    assert graph.segment_count == graph.node_count == 0
    with pytest.raises(RouteError, match="no drivable roads"):
        route_waypoints(graph, [[0, 0], [100, 0]])


def test_krems_graph_builds_fast(krems):
    graph = krems.graph
    drivable = sum(car_access(w.tags) is not None for w in krems.osm.ways.values())
    assert drivable > 400
    assert set(graph.seg_way.tolist()) <= {w for w in krems.osm.ways}
    footways = {w.id for w in krems.osm.ways.values() if w.tags.get("highway") == "footway"}
    assert not footways & set(graph.seg_way.tolist())
    assert (graph.seg_forward | graph.seg_backward).all()
    assert (~graph.seg_backward).sum() > 100  # Krems has 206 oneway-tagged ways
    print(
        f"\nKrems: project {krems.project_s * 1e3:.1f} ms, graph {krems.build_s * 1e3:.1f} ms, "
        f"{graph.node_count} nodes, {graph.segment_count} segments, {graph.edge_count} edges, "
        f"{graph.total_length_m / 1000:.1f} km of road"
    )
    assert krems.build_s < 1.0  # measured ~5 ms; generous for slow CI machines


# ---- routing ------------------------------------------------------------------------------


def test_oneway_is_respected_and_footway_not_used():
    # 1 -> 2 is oneway east; 2-4 is a footway diagonal. From 2 to 1 a car goes round the block.
    osm, xy, _ = _grid_city(
        [
            (10, [1, 2], {**ROAD, "oneway": "yes"}),
            (11, [2, 3, 4, 1], ROAD),
            (12, [2, 4], {"highway": "footway"}),
        ]
    )
    graph = RoadGraph.from_osm(osm, xy)
    back = route_waypoints(graph, [[95.0, 3.0], [5.0, 3.0]])
    assert back.length_m == pytest.approx(5 + 100 + 100 + 100 + 5)
    np.testing.assert_allclose(back.xy, [[95, 0], [100, 0], [100, 100], [0, 100], [0, 0], [5, 0]])
    assert osm.nodes.ids[back.node_rows].tolist() == [2, 3, 4, 1]
    forward = route_waypoints(graph, [[5.0, 3.0], [95.0, 3.0]])
    assert forward.length_m == pytest.approx(90.0)
    np.testing.assert_allclose(forward.xy, [[5, 0], [95, 0]])
    assert forward.waypoint_snaps.tolist() == pytest.approx([3.0, 3.0])
    assert forward.node_rows.tolist() == []


def test_waypoints_snap_onto_the_segment_not_the_nearest_node():
    osm, xy, _ = _grid_city([(10, [1, 2, 5, 6], ROAD)])
    graph = RoadGraph.from_osm(osm, xy)
    route = route_waypoints(graph, [[140.0, 30.0], [260.0, -40.0]])
    np.testing.assert_allclose(route.xy, [[140, 0], [200, 0], [260, 0]])
    assert route.waypoint_snaps.tolist() == pytest.approx([30.0, 40.0])
    assert route.waypoint_index.tolist() == [0, 2]
    assert route.length_m == pytest.approx(120.0)


def test_three_waypoints_and_repeated_ones(krems):
    a, b = krems.graph.xy[krems.core[[10, 400]]]
    route = route_waypoints(krems.graph, [a, b, b, a])
    there = route_waypoints(krems.graph, [a, b])
    back = route_waypoints(krems.graph, [b, a])
    assert route.length_m == pytest.approx(there.length_m + back.length_m)
    assert np.all(np.any(route.xy[1:] != route.xy[:-1], axis=1))  # no consecutive duplicates
    np.testing.assert_allclose(route.xy[route.waypoint_index], [a, b, b, a])
    assert route.waypoint_index[1] == route.waypoint_index[2]


def test_astar_matches_dijkstra_on_krems(krems):
    rng = np.random.default_rng(11)
    graph = krems.graph
    for source, target in rng.choice(krems.core, (25, 2)):
        route = route_waypoints(graph, graph.xy[[source, target]])
        expected = _dijkstra(graph, int(source), int(target))
        assert route.length_m == pytest.approx(expected, abs=1e-6)
        if source != target:
            rows = route.node_rows
            assert rows[0] == graph.node_rows[source] and rows[-1] == graph.node_rows[target]


def test_route_polyline_follows_graph_edges(krems):
    graph = krems.graph
    a, b = graph.xy[krems.core[[3, 900]]]
    route = route_waypoints(graph, [a + np.array([7.0, -4.0]), b + np.array([-3.0, 6.0])])
    row_to_node = {int(r): i for i, r in enumerate(graph.node_rows)}
    nodes = [row_to_node[int(r)] for r in route.node_rows]
    for u, v in itertools.pairwise(nodes):
        assert v in graph.neighbours(u)[0].tolist()
    np.testing.assert_allclose(route.xy[1:-1], graph.xy[nodes])
    assert route.length_m == pytest.approx(np.hypot(*np.diff(route.xy, axis=0).T).sum())


def test_routing_across_krems_is_fast(krems):
    graph = krems.graph
    core_xy = graph.xy[krems.core]
    west, east = core_xy[np.argmin(core_xy[:, 0])], core_xy[np.argmax(core_xy[:, 0])]
    route_waypoints(graph, [west, east])  # first call builds the adjacency lists
    start = time.perf_counter()
    runs = 10
    for _ in range(runs):
        route = route_waypoints(graph, [west, east])
    per_route = (time.perf_counter() - start) / runs
    print(f"\nKrems west-east route: {route.length_m / 1000:.2f} km in {per_route * 1e3:.2f} ms")
    assert route.length_m > np.hypot(*(east - west))
    assert per_route < 2.0  # measured ~1.5 ms; the budget is 50 ms


# ---- errors ---------------------------------------------------------------------------------


def _block():
    """The grid block plus a oneway dead end 2 -> 5 and an isolated road 7-8."""
    osm, xy, projection = _grid_city(
        [
            (10, [1, 2], ROAD),
            (11, [2, 3, 4, 1], ROAD),
            (12, [2, 5], {**ROAD, "oneway": "yes"}),
            (13, [7, 8], ROAD),
        ],
        extra_nodes={7: (0.0, 600.0), 8: (100.0, 600.0)},
    )
    return RoadGraph.from_osm(osm, xy), projection


def _latlon(projection, points):
    return projection.inverse_points(np.asarray(points, dtype=np.float64))


def test_fewer_than_two_waypoints():
    graph, _ = _block()
    with pytest.raises(RouteError, match="at least 2 waypoints, got 1"):
        route_waypoints(graph, [[0.0, 0.0]])
    with pytest.raises(RouteError, match="got 0"):
        route_waypoints(graph, np.zeros((0, 2)))


def test_waypoint_outside_the_data():
    graph, projection = _block()
    points = [[0.0, 0.0], [100.0, 100.0], [5000.0, 100.0]]
    latlon = _latlon(projection, points)
    box = ClipBox(-10.0, -10.0, 310.0, 610.0)
    with pytest.raises(RouteError, match=r"waypoint 3 \(48\.\d+, 15\.\d+\) lies outside") as caught:
        route_waypoints(graph, points, waypoints_latlon=latlon, data_box=box)
    assert caught.value.waypoint == 3
    assert "4690 m beyond the edge" in str(caught.value)
    bounds = Bounds(48.39, 15.59, 48.41, 15.61)
    with pytest.raises(RouteError, match=r"waypoint 3 .*the file covers latitude 48\.39\.\.48\.41"):
        route_waypoints(graph, points, waypoints_latlon=latlon, data_box=bounds)


def test_waypoint_too_far_from_a_road():
    graph, projection = _block()
    points = [[0.0, 0.0], [50.0, 400.0]]
    with pytest.raises(RouteError) as caught:
        route_waypoints(graph, points, waypoints_latlon=_latlon(projection, points), max_snap_m=150)
    message = str(caught.value)
    assert caught.value.waypoint == 2
    assert message.startswith("waypoint 2 (48.")
    assert "is 200 m from the nearest drivable road, more than the 150 m allowed" in message
    # Without lat/lon, the waypoint is named by its position in metres.
    with pytest.raises(RouteError, match=r"waypoint 2 \(x=50\.0 m, y=400\.0 m\) is 200 m"):
        route_waypoints(graph, points, max_snap_m=150)
    with pytest.raises(SettingsError, match="max_snap_m"):
        route_waypoints(graph, points, max_snap_m=0)


def test_no_drivable_path_names_both_waypoints():
    graph, projection = _block()
    points = [[0.0, 0.0], [200.0, 0.0], [0.0, 100.0]]  # 2 -> 5 is a oneway dead end
    latlon = _latlon(projection, points)
    with pytest.raises(RouteError) as caught:
        route_waypoints(graph, points, waypoints_latlon=latlon)
    lat2, lon2 = (f"{v:.6f}".rstrip("0") for v in latlon[1])
    lat3, lon3 = (f"{v:.6f}".rstrip("0") for v in latlon[2])
    assert str(caught.value) == (
        f"no drivable path from waypoint 2 ({lat2}, {lon2}) to waypoint 3 ({lat3}, {lon3}): "
        "the roads there are not connected for cars (oneway streets or non-drivable paths?)"
    )
    assert caught.value.waypoint == 2
    with pytest.raises(RouteError, match="no drivable path from waypoint 1"):
        route_waypoints(graph, [[0.0, 0.0], [50.0, 600.0]])  # a separate road


def test_an_unreachable_nearest_road_gives_way_to_a_reachable_one():
    graph, _ = _block()
    # 220 m from the isolated road 7-8, 280 m from the block: the block is the one to use.
    route = route_waypoints(graph, [[0.0, 0.0], [50.0, 380.0]], max_snap_m=300)
    assert route.waypoint_snaps.tolist() == pytest.approx([0.0, 280.0])
    np.testing.assert_allclose(route.xy[-1], [50.0, 100.0])
    assert route.length_m == pytest.approx(150.0)
    # And the other way round, for the first waypoint.
    route = route_waypoints(graph, [[50.0, 380.0], [0.0, 0.0]], max_snap_m=300)
    np.testing.assert_allclose(route.xy[0], [50.0, 100.0])


def test_zero_length_route():
    graph, _ = _block()
    with pytest.raises(RouteError, match="zero length: all 2 waypoints snap to the same point"):
        route_waypoints(graph, [[50.0, 5.0], [50.0, -5.0]])


# ---- the --route text -----------------------------------------------------------------------


def test_parse_waypoints():
    assert parse_waypoints("48.41,15.60;48.40,15.65") == [(48.41, 15.6), (48.4, 15.65)]
    assert parse_waypoints(" 48.41 , 15.60 ; -33.9,151.2 ; ") == [(48.41, 15.6), (-33.9, 151.2)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("48.41,15.60", "a route needs at least 2 waypoints 'lat,lon;lat,lon', got 1"),
        ("", "got 0"),
        ("48.41,15.60;;48.4,15.6", "waypoint 2 is empty"),
        ("48.41,15.60;48.4", "waypoint 2 '48.4' is not two numbers 'lat,lon' (1 comma"),
        ("48.41,15.60,3;48.4,15.6", "waypoint 1 '48.41,15.60,3' is not two numbers"),
        ("48.41,15.60;abc,15.6", "waypoint 2 'abc,15.6': latitude 'abc' is not a number"),
        ("48.41,15.60;48.4,nan", "waypoint 2 '48.4,nan': longitude 'nan' is not a number"),
        ("95,15.60;48.4,15.6", "latitude 95 is outside -90..90 (latitude and longitude swap"),
        ("48.4,15.6;120,-95", "waypoint 2 '120,-95': latitude 120 is outside -90..90"),
        ("48.4,15.6;48.4,181", "waypoint 2 '48.4,181': longitude 181 is outside -180..180"),
    ],
)
def test_parse_waypoints_errors(text, message):
    with pytest.raises(SettingsError) as caught:
        parse_waypoints(text)
    assert caught.value.setting == "--route"
    assert str(caught.value).startswith("--route: ")
    assert message in str(caught.value)
    assert "swapped" not in str(caught.value) or "95" in text


# ---- snapping a recorded track onto the roads ------------------------------------------------


def _distances_to(polyline: np.ndarray, points: np.ndarray) -> np.ndarray:
    a = polyline[:-1]
    d = polyline[1:] - a
    length2 = np.maximum((d * d).sum(axis=1), 1e-12)
    out = np.empty(len(points))
    for i, p in enumerate(points):
        t = np.clip(((p - a) * d).sum(axis=1) / length2, 0, 1)
        out[i] = np.hypot(*(a + t[:, None] * d - p).T).min()
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_noisy_track_snaps_back_onto_its_route(krems, seed):
    rng = np.random.default_rng(seed)
    graph = krems.graph
    while True:
        a, b = graph.xy[rng.choice(krems.core, 2, replace=False)]
        route = route_waypoints(graph, [a, b])
        if 1500 < route.length_m < 4000:
            break
    fixes = resample(route.xy, 8.0)
    noisy = fixes + rng.normal(0.0, 4.0, fixes.shape)  # a typical GPS error
    start = time.perf_counter()
    matched = match_track(noisy, graph, max_snap_m=50.0)
    elapsed = time.perf_counter() - start
    np.testing.assert_array_equal(snap_track_to_roads(noisy, graph, 50.0), matched.xy)
    print(f"\nsnapped {len(noisy)} fixes ({route.length_m:.0f} m) in {elapsed * 1e3:.0f} ms")
    # Every part of the result lies on the original route...
    off_route = _distances_to(route.xy, resample(matched.xy, 2.0))
    assert np.percentile(off_route, 99) < 1.0
    assert off_route.max() < 15.0
    # ...and it covers the route, give or take where the first and last fixes snapped.
    missed = _distances_to(matched.xy, resample(route.xy, 2.0))
    assert np.percentile(missed, 95) < 1.0
    assert matched.length_m == pytest.approx(route.length_m, abs=40.0)
    used = ~np.isnan(matched.waypoint_snaps)
    assert used.sum() > len(noisy) / 2
    assert np.nanmax(matched.waypoint_snaps) < 20.0
    assert np.all(matched.waypoint_index[used] >= 0)
    assert np.all(np.diff(matched.waypoint_index[used]) >= 0)  # the match only moves forward


def test_snapping_needs_a_road_nearby(krems):
    far = np.array([[50_000.0, 50_000.0], [50_100.0, 50_000.0]])
    with pytest.raises(RouteError, match="no point of the track lies within 50 m"):
        snap_track_to_roads(far, krems.graph)
    with pytest.raises(SettingsError, match="max_snap_m"):
        match_track(far, krems.graph, max_snap_m=-1)


def test_snap_candidates_are_distinct_and_sorted(krems):
    graph = krems.graph
    x, y = graph.xy[krems.core[5]] + [3.0, 3.0]
    found = snap_candidates(graph, x, y, 60.0, limit=6)
    assert 1 <= len(found) <= 6
    distances = [s.distance for s in found]
    assert distances == sorted(distances) and distances[-1] <= 60.0
    assert len({(round(s.x, 6), round(s.y, 6)) for s in found}) == len(found)
