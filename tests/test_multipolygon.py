"""Building multipolygons: rings joined from split ways, holes assigned, missing members counted."""

import numpy as np
import pytest
from helpers.osm_data import LocalMetres
from helpers.paths import SHARED_DATA

from leanroute.route.multipolygon import (
    assemble_rings,
    building_multipolygons,
    points_in_polygon,
)
from leanroute.route.osm_model import Member, Relation, Way

METRES = LocalMetres(38.74, -9.15)
make_osm = METRES.make_osm


def square(first_id: int, x0: float, y0: float, size: float) -> dict[int, tuple[float, float]]:
    """Four corner nodes, counter-clockwise, ids first_id..first_id + 3."""
    corners = [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size)]
    return {first_id + i: c for i, c in enumerate(corners)}


def as_cycle(ring) -> list:
    """A closed ring as a canonical cycle (start at the smallest id, either direction)."""
    body = list(ring[:-1])
    start = body.index(min(body))
    forward = body[start:] + body[:start]
    backward = [forward[0], *forward[:0:-1]]
    return min(forward, backward)


def test_assemble_rings_joins_pieces_in_any_order_and_direction():
    pieces = [(3, 4, 5), (1, 2, 3), (1, 8, 7, 6, 5)[::-1]]  # last one reversed, out of order
    rings, unclosed = assemble_rings(pieces)
    assert unclosed == 0
    assert len(rings) == 1
    assert rings[0][0] == rings[0][-1]
    assert as_cycle(rings[0]) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_assemble_rings_keeps_closed_ways_and_counts_a_broken_ring_once():
    closed = (10, 11, 12, 10)
    # Ring 1-2-3-4-1 with its piece 3-4 missing, the other pieces given from the middle out.
    rings, unclosed = assemble_rings([(2, 3), closed, (4, 1), (1, 2), (7,)])
    assert rings == [closed]
    assert unclosed == 1


def test_points_in_polygon_even_odd():
    ring = np.array([(0, 0), (10, 0), (10, 10), (0, 10)], float)
    inside = points_in_polygon(np.array([(5, 5), (15, 5), (-1, -1), (9.9, 0.1)]), ring)
    assert inside.tolist() == [True, False, False, True]


def test_holes_are_assembled_from_split_member_ways():
    nodes = {**square(1, 0, 0, 30), **square(11, 10, 10, 10)}
    ways = [
        Way(100, (1, 2, 3), {}),
        Way(101, (1, 4, 3), {}),  # the outer's second half, reversed
        Way(200, (11, 12, 13), {}),
        Way(201, (13, 14, 11), {}),
    ]
    members = (
        Member("way", 100, "outer"),
        Member("way", 200, "inner"),
        Member("way", 101, "outer"),
        Member("way", 201, "inner"),
    )
    relation = Relation(7, members, {"type": "multipolygon", "building": "yes"})
    result = building_multipolygons(make_osm(nodes, ways, [relation]))
    assert (result.relations, result.built, result.skipped_no_outer) == (1, 1, 0)
    building = result.buildings[0]
    assert building.osm_id == 7
    assert [as_cycle(r) for r in building.outer_rings] == [[1, 2, 3, 4]]
    assert [[as_cycle(r) for r in inner] for inner in building.inner_rings_per_outer] == [
        [[11, 12, 13, 14]]
    ]
    assert building.tags["building"] == "yes"
    assert building.outer_way_ids == {100, 101}


def test_a_relation_whose_outer_cannot_close_is_skipped_and_counted():
    nodes = {**square(1, 0, 0, 30), **square(11, 10, 10, 10)}
    ways = [Way(100, (1, 2, 3), {}), Way(200, (11, 12, 13, 14, 11), {})]
    members = (
        Member("way", 100, "outer"),
        Member("way", 101, "outer"),  # not in the file
        Member("way", 200, "inner"),
    )
    relation = Relation(8, members, {"type": "multipolygon", "building": "house"})
    result = building_multipolygons(make_osm(nodes, ways, [relation]))
    assert result.buildings == []
    assert (result.relations, result.built, result.skipped_no_outer) == (1, 0, 1)
    assert (result.with_missing_members, result.unclosed_rings) == (1, 1)
    assert result.consumed_way_ids == frozenset()


def test_a_missing_inner_member_only_loses_its_hole():
    nodes = {**square(1, 0, 0, 30), **square(11, 10, 10, 10)}
    ways = [Way(100, (1, 2, 3, 4, 1), {}), Way(200, (11, 12, 13), {})]
    members = (
        Member("way", 100, "outer"),
        Member("way", 200, "inner"),
        Member("way", 201, "inner"),  # not in the file: the inner ring cannot close
    )
    relation = Relation(9, members, {"type": "multipolygon", "building": "yes"})
    result = building_multipolygons(make_osm(nodes, ways, [relation]))
    assert result.built == 1 and result.with_missing_members == 1
    assert result.unclosed_rings == 1
    assert result.buildings[0].inner_rings_per_outer == ((),)


def test_each_inner_ring_goes_to_the_outer_that_contains_it():
    nodes = {
        **square(1, 0, 0, 30),
        **square(11, 100, 0, 30),
        **square(21, 110, 10, 10),  # inside the second outer
        **square(31, 5, 5, 5),  # inside the first outer
        **square(41, 500, 500, 5),  # inside neither
    }
    ways = [Way(i, (i, i + 1, i + 2, i + 3, i), {}) for i in (1, 11, 21, 31, 41)]
    members = (
        Member("way", 21, "inner"),
        Member("way", 1, "outer"),
        Member("way", 11, "outer"),
        Member("way", 31, "inner"),
        Member("way", 41, "inner"),
        Member("node", 1, ""),
    )
    relation = Relation(5, members, {"type": "multipolygon", "building": "yes"})
    result = building_multipolygons(make_osm(nodes, ways, [relation]))
    building = result.buildings[0]
    outers = [as_cycle(r)[0] for r in building.outer_rings]
    holes = {
        outer: [as_cycle(r)[0] for r in inner]
        for outer, inner in zip(outers, building.inner_rings_per_outer, strict=True)
    }
    assert holes == {1: [31], 11: [21]}
    assert result.unassigned_inner == 1


def test_old_style_relation_takes_the_building_tag_from_its_outer_way():
    nodes = {**square(1, 0, 0, 30), **square(11, 10, 10, 10)}
    ways = [
        Way(100, (1, 2, 3, 4, 1), {"building": "yes", "height": "12"}),
        Way(200, (11, 12, 13, 14, 11), {}),
        Way(300, (1, 2, 3, 4, 1), {"landuse": "grass"}),
    ]
    relations = [
        Relation(
            1, (Member("way", 100, "outer"), Member("way", 200, "inner")), {"type": "multipolygon"}
        ),
        # Not buildings: a landuse multipolygon, and a relation saying building=no.
        Relation(2, (Member("way", 300, "outer"),), {"type": "multipolygon", "landuse": "grass"}),
        Relation(3, (Member("way", 100, "outer"),), {"type": "multipolygon", "building": "no"}),
    ]
    result = building_multipolygons(make_osm(nodes, ways, relations))
    assert (result.relations, result.old_style, result.built) == (1, 1, 1)
    building = result.buildings[0]
    assert building.tags["building"] == "yes" and building.tags["height"] == "12"
    assert building.tags["type"] == "multipolygon"
    assert result.consumed_way_ids == {100}


@pytest.fixture(scope="module")
def read():
    from leanroute.route.osm_parse import read_osm

    return lambda name: read_osm(SHARED_DATA / "osm" / name)


@pytest.mark.parametrize(
    ("name", "relations", "missing", "holes_per_building"),
    [
        # data/README.md: 9 building relations, 1 with a missing member (an inner of 7109300,
        # so it keeps its other hole): all 9 are built, none skipped.
        ("lisbon_avenidas_novas.osm", 9, 1, {7109300: 1, 1428038: 3, 1428039: 4}),
        # 32 relations, 2 with missing members (inners of 396554 and 400426): all built; 396554
        # loses both its holes, and 22505 never had one.
        ("berlin_mitte_kreuzberg.osm", 32, 2, {396554: 0, 400426: 1, 22505: 0, 106085: 6}),
    ],
)
def test_real_building_relations(read, name, relations, missing, holes_per_building):
    result = building_multipolygons(read(name))
    assert result.relations == relations
    assert result.built == relations and result.skipped_no_outer == 0
    assert result.with_missing_members == missing
    assert result.unclosed_rings == 0 and result.unassigned_inner == 0
    holes = {b.osm_id: sum(len(h) for h in b.inner_rings_per_outer) for b in result.buildings}
    for osm_id, count in holes_per_building.items():
        assert holes[osm_id] == count


def test_krems_has_old_style_building_relations(read):
    # data/README.md counts 0 building relations in krems: all 13 carry building=* on the outer way.
    result = building_multipolygons(read("krems.osm"))
    assert (result.relations, result.old_style, result.built) == (13, 13, 13)
    assert len(result.consumed_way_ids) == 13
    assert all(len(b.inner_rings_per_outer[0]) >= 1 for b in result.buildings)
