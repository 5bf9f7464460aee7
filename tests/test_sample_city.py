"""The sample city: deterministic bytes, read back by read_osm, plausible and drivable."""

import dataclasses
import heapq
import itertools
import math
import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pytest

from leanroute.route.osm_parse import read_osm
from leanroute.route.sample_city import GENERATOR, write_sample_city

CAR_HIGHWAYS = {"primary", "secondary", "tertiary", "residential", "service"}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "sample_city.osm"
    written = write_sample_city(path)
    return written, read_osm(path)


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
