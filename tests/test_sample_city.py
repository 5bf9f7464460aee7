"""The sample city: deterministic bytes, read back by read_osm, plausible and drivable."""

import dataclasses
import heapq
import itertools
import math
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from leanroute.route.osm_parse import read_osm
from leanroute.route.sample_city import GENERATOR, write_sample_city

CAR_HIGHWAYS = {"primary", "secondary", "tertiary", "residential", "service"}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "sample_city.osm"
    written = write_sample_city(path)
    # keep_all: these tests check the file's own contents, parks and untagged rings included.
    return written, read_osm(path, keep_all=True)


def metres(data, lat, lon):
    """(x, y) in metres from the box's centre: plenty for checks at city scale."""
    centre_lat, centre_lon = data.bounds.centre
    scale = 6_371_008.8 * math.pi / 180
    return (
        (np.asarray(lon) - centre_lon) * scale * math.cos(math.radians(centre_lat)),
        (np.asarray(lat) - centre_lat) * scale,
    )


def test_same_seed_same_bytes_other_seed_other_buildings(tmp_path):
    first, second, other = tmp_path / "a.osm", tmp_path / "b.osm", tmp_path / "c.osm"
    city_a = write_sample_city(first, seed=7)
    city_b = write_sample_city(second, seed=7)
    write_sample_city(other, seed=8)
    assert first.read_bytes() == second.read_bytes()
    assert city_a == dataclasses.replace(city_b, path=str(first))
    assert first.read_bytes() != other.read_bytes()
    # The seed varies buildings only: the street network is the same.
    streets = [
        sorted(
            (w.refs, tuple(sorted(w.tags.items())))
            for w in data.ways.values()
            if "highway" in w.tags
        )
        for data in (read_osm(first), read_osm(other))
    ]
    assert streets[0] == streets[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.osm", "b.osm", "c.osm"]


def test_parseable_xml_with_generator_and_bounds(city):
    written, data = city
    root = ET.parse(written.path).getroot()
    assert root.tag == "osm" and root.get("version") == "0.6"
    assert root.get("generator") == GENERATOR == data.generator == "LeanRoute sample city"
    assert "not OpenStreetMap data" in root.find("note").text
    ids = [int(node.get("id")) for node in root.iter("node")]
    assert min(ids) > 0 and len(set(ids)) == len(ids) == written.nodes
    assert data.bounds == written.bounds
    assert data.nodes.bounds() is not None
    assert all(
        data.bounds.contains(lat, lon)
        for lat, lon in zip(data.nodes.lat, data.nodes.lon, strict=True)
    )
    width, height = metres(data, data.bounds.max_lat, data.bounds.max_lon)
    assert 1150 < 2 * width < 1300 and 1150 < 2 * height < 1300


def test_counts_match_what_was_written(city):
    written, data = city
    ways = list(data.ways.values())
    assert len(data.nodes) == written.nodes
    assert len(ways) == written.ways
    assert len(data.relations) == written.relations
    assert sum("building" in w.tags for w in ways) == written.building_ways > 300
    assert sum("highway" in w.tags for w in ways) == written.highway_ways
    assert sum("oneway" in w.tags for w in ways) == written.oneway_ways >= 4
    multipolygons = [
        r
        for r in data.relations.values()
        if r.tags.get("type") == "multipolygon" and "building" in r.tags
    ]
    assert len(multipolygons) == written.multipolygon_buildings >= 1
    # Every reference resolves.
    for way in ways:
        assert np.all(data.nodes.index_of(way.refs) >= 0)


def test_streets_are_named_and_of_several_classes(city):
    _, data = city
    highways = [w for w in data.ways.values() if "highway" in w.tags]
    assert all(w.tags.get("name") for w in highways)
    classes = Counter(w.tags["highway"] for w in highways)
    assert {"primary", "secondary", "residential", "service", "footway", "pedestrian"} <= set(
        classes
    )
    oneways = Counter(w.tags["oneway"] for w in highways if "oneway" in w.tags)
    assert oneways["yes"] >= 2 and oneways["-1"] >= 1


def test_building_tags_mix(city):
    _, data = city
    buildings = [w for w in data.ways.values() if "building" in w.tags]
    assert all(w.is_closed for w in buildings)
    levels = sum("building:levels" in w.tags for w in buildings)
    height = sum("height" in w.tags for w in buildings)
    both = sum("building:levels" in w.tags and "height" in w.tags for w in buildings)
    neither = len(buildings) - levels - height + both
    assert levels > 0 and height > 0 and both > 0 and neither > 0
    for w in buildings:
        if "height" in w.tags:
            assert 3 < float(w.tags["height"]) < 60
        if "building:levels" in w.tags:
            assert 1 <= int(w.tags["building:levels"]) <= 20
    assert any(w.tags.get("leisure") == "park" and w.is_closed for w in data.ways.values())


def test_courtyard_multipolygon_has_outer_and_inner(city):
    _, data = city
    relation = next(r for r in data.relations.values() if r.tags.get("type") == "multipolygon")
    assert "building" in relation.tags
    roles = {m.role: m for m in relation.members}
    assert set(roles) == {"outer", "inner"}
    assert all(m.type == "way" and m.ref in data.ways for m in relation.members)
    outer, inner = data.ways[roles["outer"].ref], data.ways[roles["inner"].ref]
    assert outer.is_closed and inner.is_closed
    assert "building" not in outer.tags  # the relation carries the tags, not its rings

    def box(way):
        rows = data.nodes.index_of(way.refs)
        lat, lon = data.nodes.lat[rows], data.nodes.lon[rows]
        return lat.min(), lon.min(), lat.max(), lon.max()

    (o_s, o_w, o_n, o_e), (i_s, i_w, i_n, i_e) = box(outer), box(inner)
    assert o_s < i_s < i_n < o_n and o_w < i_w < i_e < o_e


def test_buildings_do_not_overlap_each_other_or_streets(city):
    _, data = city
    boxes = []
    for way in data.ways.values():
        if "building" in way.tags or not way.tags:  # untagged: courtyard rings
            rows = data.nodes.index_of(way.refs)
            x, y = metres(data, data.nodes.lat[rows], data.nodes.lon[rows])
            boxes.append((x.min(), y.min(), x.max(), y.max()))
    boxes = np.array(boxes)
    # Courtyard rings nest by design; every other pair of footprints is apart.
    x0, y0, x1, y1 = boxes.T
    overlap = (
        (x0[:, None] < x1[None, :] - 0.5)
        & (x0[None, :] < x1[:, None] - 0.5)
        & (y0[:, None] < y1[None, :] - 0.5)
        & (y0[None, :] < y1[:, None] - 0.5)
    )
    np.fill_diagonal(overlap, False)
    nested = (x0[:, None] < x0[None, :]) & (x1[None, :] < x1[:, None])
    assert not np.any(overlap & ~nested & ~nested.T)
    # Street segments keep clear of every footprint (axis-aligned segments, 5 m clearance).
    for way in data.ways.values():
        if way.tags.get("highway") not in CAR_HIGHWAYS | {"pedestrian"}:
            continue
        rows = data.nodes.index_of(way.refs)
        x, y = metres(data, data.nodes.lat[rows], data.nodes.lon[rows])
        for a, b in itertools.pairwise(range(len(x))):
            sx0, sx1 = sorted((x[a], x[b]))
            sy0, sy1 = sorted((y[a], y[b]))
            hits = (sx0 < x1 + 5) & (x0 - 5 < sx1) & (sy0 < y1 + 5) & (y0 - 5 < sy1)
            assert not hits.any(), way.tags["name"]


def graph(data, allowed):
    """Directed edges {node id: [(neighbour, metres)]} over highways of *allowed* classes."""
    edges = {}
    for way in data.ways.values():
        if way.tags.get("highway") not in allowed:
            continue
        rows = data.nodes.index_of(way.refs)
        x, y = metres(data, data.nodes.lat[rows], data.nodes.lon[rows])
        oneway = way.tags.get("oneway")
        for a in range(len(way.refs) - 1):
            length = math.hypot(x[a + 1] - x[a], y[a + 1] - y[a])
            u, v = way.refs[a], way.refs[a + 1]
            if oneway != "-1":  # drawn direction
                edges.setdefault(u, []).append((v, length))
            if oneway != "yes":  # against it: oneway=-1 or two-way
                edges.setdefault(v, []).append((u, length))
            edges.setdefault(u, [])
            edges.setdefault(v, [])
    return edges


def distances(edges, start):
    best = {start: 0.0}
    queue = [(0.0, start)]
    while queue:
        dist, node = heapq.heappop(queue)
        if dist > best[node]:
            continue
        for neighbour, length in edges[node]:
            if dist + length < best.get(neighbour, math.inf):
                best[neighbour] = dist + length
                heapq.heappush(queue, (dist + length, neighbour))
    return best


def test_car_network_strongly_connected_and_demo_route_drivable(city):
    written, data = city
    cars = graph(data, CAR_HIGHWAYS)
    anywhere = next(iter(cars))
    assert set(distances(cars, anywhere)) == set(cars)
    reverse = {node: [] for node in cars}
    for node, out in cars.items():
        for neighbour, length in out:
            reverse[neighbour].append((node, length))
    assert set(distances(reverse, anywhere)) == set(cars)

    assert 2 <= len(written.waypoints) <= 3
    car_nodes = np.array(sorted(cars))
    rows = data.nodes.index_of(car_nodes)
    node_x, node_y = metres(data, data.nodes.lat[rows], data.nodes.lon[rows])
    half_x, half_y = metres(data, data.bounds.max_lat, data.bounds.max_lon)
    stops = []
    for lat, lon in written.waypoints:
        x, y = metres(data, lat, lon)
        assert abs(x) < 0.8 * half_x and abs(y) < 0.8 * half_y  # well inside the city
        stops.append(int(car_nodes[np.argmin(np.hypot(node_x - x, node_y - y))]))
    total = sum(distances(cars, a)[b] for a, b in itertools.pairwise(stops))
    assert 1000 < total < 2000

    # The footway and pedestrian street are shortcuts on this route that cars must not take.
    walkers = graph(data, CAR_HIGHWAYS | {"footway", "pedestrian"})
    walked = sum(distances(walkers, a)[b] for a, b in itertools.pairwise(stops))
    assert walked < total - 50


# ---- sized cities: write_sample_city(path, buildings=N) ----


@pytest.fixture(scope="module")
def sized(tmp_path_factory):
    """{N: (written, data)} for a 1,000- and a 4,000-building city (k = 9 and 17 blocks)."""
    folder = tmp_path_factory.mktemp("sized")
    cities = {}
    for count in (1000, 4000):
        written = write_sample_city(folder / f"city{count}.osm", buildings=count)
        cities[count] = written, read_osm(written.path, keep_all=True)
    return cities


def count_buildings(data) -> int:
    ways = sum("building" in w.tags for w in data.ways.values())
    relations = sum(
        r.tags.get("type") == "multipolygon" and "building" in r.tags
        for r in data.relations.values()
    )
    return ways + relations


def strongly_connected(edges) -> bool:
    anywhere = next(iter(edges))
    reverse = {node: [] for node in edges}
    for node, out in edges.items():
        for neighbour, length in out:
            reverse[neighbour].append((node, length))
    return set(distances(edges, anywhere)) == set(edges) == set(distances(reverse, anywhere))


def street_length(data) -> float:
    total = 0.0
    for way in data.ways.values():
        if way.tags.get("highway") in CAR_HIGHWAYS:
            rows = data.nodes.index_of(way.refs)
            x, y = metres(data, data.nodes.lat[rows], data.nodes.lon[rows])
            total += float(np.hypot(np.diff(x), np.diff(y)).sum())
    return total


def test_default_is_buildings_none(city, tmp_path):
    written, data = city
    again = write_sample_city(tmp_path / "none.osm", buildings=None)
    assert again == dataclasses.replace(written, path=again.path)
    assert (tmp_path / "none.osm").read_bytes() == Path(written.path).read_bytes()
    assert written.buildings == written.building_ways + written.multipolygon_buildings
    assert written.buildings == count_buildings(data)


@pytest.mark.parametrize("count", [1000, 4000])
def test_sized_city_has_exactly_n_buildings_and_unique_street_names(sized, count):
    written, data = sized[count]
    assert written.buildings == count_buildings(data) == count
    assert len(data.nodes) == written.nodes and len(data.ways) == written.ways
    assert sum("highway" in w.tags for w in data.ways.values()) == written.highway_ways
    # Streets are split into ways of two blocks, as OSM splits them; a name is one street.
    streets = {}
    for way in data.ways.values():
        if "highway" in way.tags:
            streets.setdefault(way.tags.get("name"), []).append(way)
    assert all(streets) and len(streets) < written.highway_ways
    for name, ways in streets.items():
        assert len({tuple(sorted(w.tags.items())) for w in ways}) == 1, name
        assert all(len(w.refs) >= 2 for w in ways)
        # The pieces chain end to end into one street.
        starts, ends = Counter(w.refs[0] for w in ways), Counter(w.refs[-1] for w in ways)
        assert sum((starts - ends).values()) == 1, name
    # The 8 x 8-block pattern repeats: several parks, courtyards, alleys and footways.
    tiles = 1 if count == 1000 else 4
    classes = Counter(w.tags["highway"] for w in data.ways.values() if "highway" in w.tags)
    assert classes["footway"] == classes["pedestrian"] == tiles
    assert classes["service"] == 3 * tiles and written.relations == 2 * tiles
    assert {"primary", "secondary", "tertiary", "residential"} <= set(classes)


def test_sized_city_passes_the_default_citys_checks(sized):
    # The footprint, tag and courtyard checks of the default city hold for a sized one too.
    test_counts_match_what_was_written(sized[1000])
    test_building_tags_mix(sized[1000])
    test_courtyard_multipolygon_has_outer_and_inner(sized[1000])
    test_buildings_do_not_overlap_each_other_or_streets(sized[1000])


@pytest.mark.parametrize("count", [1000, 4000])
def test_sized_city_is_drivable_corner_to_corner_and_bounded(sized, count):
    written, data = sized[count]
    cars = graph(data, CAR_HIGHWAYS)
    assert strongly_connected(cars)
    assert all(
        data.bounds.contains(lat, lon)
        for lat, lon in zip(data.nodes.lat, data.nodes.lon, strict=True)
    )
    car_nodes = np.array(sorted(cars))
    rows = data.nodes.index_of(car_nodes)
    lat, lon = data.nodes.lat[rows], data.nodes.lon[rows]
    stops = []
    for stop_lat, stop_lon in written.waypoints:
        nearest = np.argmin(np.hypot(lat - stop_lat, lon - stop_lon))
        assert abs(lat[nearest] - stop_lat) < 1e-6 and abs(lon[nearest] - stop_lon) < 1e-6
        stops.append(int(car_nodes[nearest]))
    assert len(set(stops)) == 3
    assert all(math.isfinite(distances(cars, a)[b]) for a, b in itertools.pairwise(stops))
    # South-west corner to north-east corner: the route's box holds every building.
    (south, west), _, (north, east) = written.waypoints
    assert (south, west) == (data.nodes.lat.min(), data.nodes.lon.min())
    assert (north, east) == (data.nodes.lat.max(), data.nodes.lon.max())


def test_street_network_grows_with_the_city(sized):
    (small, small_data), (large, large_data) = sized[1000], sized[4000]
    ratio = street_length(large_data) / street_length(small_data)
    assert 3.0 < ratio < 5.0, ratio
    assert 3.0 < large.nodes / small.nodes < 5.0
    # Streets only round the blocks filled: ways per building stay close as the city grows.
    per_building = [city.highway_ways / city.buildings for city in (small, large)]
    assert max(per_building) / min(per_building) < 1.1, per_building


@pytest.mark.parametrize("count", [1, 2, 37])
def test_small_sizes(tmp_path, count):
    written = write_sample_city(tmp_path / "small.osm", buildings=count)
    data = read_osm(written.path)
    assert written.buildings == count_buildings(data) == count
    assert strongly_connected(graph(data, CAR_HIGHWAYS))
    assert len(set(written.waypoints)) == 3


def test_same_seed_and_size_same_bytes(tmp_path):
    paths = [tmp_path / name for name in ("a.osm", "b.osm", "c.osm", "d.osm")]
    write_sample_city(paths[0], seed=3, buildings=300)
    write_sample_city(paths[1], seed=3, buildings=300)
    write_sample_city(paths[2], seed=4, buildings=300)
    write_sample_city(paths[3], seed=3, buildings=301)
    first = paths[0].read_bytes()
    assert first == paths[1].read_bytes()
    assert first != paths[2].read_bytes() and first != paths[3].read_bytes()
    assert count_buildings(read_osm(paths[2])) == 300


@pytest.mark.parametrize("bad", [0, -5, 2.5, 10.0, "10", True, [3]])
def test_invalid_sizes_raise_value_error_naming_the_argument(tmp_path, bad):
    with pytest.raises(ValueError, match="buildings"):
        write_sample_city(tmp_path / "bad.osm", buildings=bad)
    assert not any(tmp_path.iterdir())


def test_blocks_sets_the_area_around_the_buildings(tmp_path):
    sparse = write_sample_city(tmp_path / "sparse.osm", buildings=1, blocks=9)
    full = write_sample_city(tmp_path / "full.osm", buildings=1000)
    assert sparse.buildings == count_buildings(read_osm(sparse.path)) == 1
    # The 1,000-building city's 9 x 9-block box, but streets round every block of it, where
    # that city has them only round the 65 blocks it fills.
    assert sparse.bounds == full.bounds and sparse.blocks == full.blocks == 9
    assert sparse.highway_ways > full.highway_ways
    with pytest.raises(ValueError, match="too small for 1,000 buildings"):
        write_sample_city(tmp_path / "small.osm", buildings=1000, blocks=3)
    with pytest.raises(ValueError, match="blocks must be an integer"):
        write_sample_city(tmp_path / "bad.osm", buildings=1, blocks=0)
    with pytest.raises(ValueError, match="blocks needs buildings"):
        write_sample_city(tmp_path / "none.osm", blocks=9)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.osm", "sparse.osm"]
