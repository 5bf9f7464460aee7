"""osm_needs: the keep rule for ways, relations and nodes, on plain data (no file)."""

from array import array

import numpy as np
import pytest

from leanroute.route import multipolygon, osm_needs
from leanroute.route.osm_model import Member, NodeTable, OsmData, Relation, Way
from leanroute.route.osm_needs import (
    DROP,
    FEATURE_KEYS,
    KEEP,
    KEPT_WAY_KEYS,
    MAYBE,
    OUTER_ROLES,
    needed_rows,
    relation_need,
    resolve,
    way_need,
)


@pytest.mark.parametrize(
    ("tags", "need"),
    [
        ({"highway": "residential"}, KEEP),
        ({"building": "yes"}, KEEP),
        ({"building": "no"}, KEEP),  # read by the consumers, which skip it themselves
        ({"building:part": "yes", "height": "9"}, KEEP),
        ({"highway": "footway", "area": "yes", "landuse": "x"}, KEEP),  # a feature key too
        ({"building": "yes", "amenity": "school"}, KEEP),
        ({}, MAYBE),
        ({"area": "yes"}, MAYBE),
        ({"layer": "1"}, MAYBE),
        ({"source": "survey", "note": "x", "fixme": "y", "created_by": "JOSM"}, MAYBE),
        ({"heritage": "4", "ref:lda": "09080301"}, MAYBE),  # a real building ring in Berlin
        ({"amenity": "parking"}, MAYBE),  # may describe a building's use: held, not dropped
        ({"landuse": "grass"}, DROP),
        ({"waterway": "stream"}, DROP),
        ({"natural": "water", "source": "landsat"}, DROP),
        ({"barrier": "kerb"}, DROP),
        ({"power": "line"}, DROP),
        ({"railway": "rail", "layer": "1"}, DROP),
        ({"area:highway": "footway"}, DROP),
    ],
)
def test_way_need(tags, need):
    assert way_need(tags) == need


def test_kept_and_feature_keys_do_not_overlap():
    assert FEATURE_KEYS.isdisjoint(KEPT_WAY_KEYS)
    assert {"landuse", "waterway", "natural", "barrier", "power", "railway"} <= FEATURE_KEYS


@pytest.mark.parametrize(
    ("tags", "need"),
    [
        ({"type": "multipolygon", "building": "yes"}, KEEP),
        ({"type": "multipolygon", "building": "no"}, DROP),
        ({"type": "multipolygon"}, MAYBE),
        ({"type": "multipolygon", "landuse": "forest"}, MAYBE),  # decided by its outer way
        ({"type": "building"}, DROP),
        ({"type": "route", "route": "bus"}, DROP),
        ({"building": "yes"}, DROP),  # no type=multipolygon: not read as a building
        ({}, DROP),
    ],
)
def test_relation_need(tags, need):
    assert relation_need(tags) == need


def test_outer_roles_are_the_multipolygon_reader_s():
    assert OUTER_ROLES == multipolygon._OUTER_ROLES


def relation(relation_id, *members, **tags):
    return Relation(relation_id, tuple(Member(*m) for m in members), tags)


def test_resolve_keeps_named_rings_and_old_style_relations_in_order():
    ways = {
        1: (array("q", [1, 2]), {"highway": "path"}),
        2: (array("q"), {}),  # ring of building relation 10
        3: (array("q"), {"building": "yes"}),  # outer of old-style 11
        4: (array("q"), {}),  # inner of old-style 11
        5: (array("q"), {}),  # ring of 12, not a building
        6: (array("q"), {"layer": "1"}),  # named by nothing
        7: (array("q"), {"building": "no"}),  # outer of 13: building=no is no building
    }
    relations = {
        10: relation(10, ("way", 2, "outer"), ("way", 99, "inner"), building="yes"),
        11: relation(11, ("way", 3, ""), ("way", 4, "inner"), type="multipolygon"),
        12: relation(12, ("way", 5, "outer"), ("node", 6, ""), type="multipolygon"),
        13: relation(13, ("way", 7, "outer"), type="multipolygon"),
        14: relation(14, ("way", 3, "inner"), ("way", 5, "outer"), type="multipolygon"),
    }
    resolve(ways, {2, 4, 5, 6}, relations, {11, 12, 13, 14})
    assert list(relations) == [10, 11]
    assert list(ways) == [1, 2, 3, 4, 7]


def test_resolve_agrees_with_the_multipolygon_reader():
    ways = {
        1: Way(1, (1, 2, 3, 1), {"building": "yes"}),
        2: Way(2, (4, 5, 6, 4), {"building": "no"}),
        3: Way(3, (4, 5, 6, 4), {}),
    }
    relations = {
        20: relation(20, ("way", 1, "outer"), type="multipolygon"),
        21: relation(21, ("way", 1, "inner"), ("way", 3, "outer"), type="multipolygon"),
        22: relation(22, ("way", 2, "outer"), type="multipolygon"),
        23: relation(23, ("way", 3, "outer"), type="multipolygon", building="yes"),
    }
    osm = OsmData("x", NodeTable(*(np.zeros(0),) * 3), dict(ways), dict(relations))
    expected = [r for r in relations.values() if multipolygon.is_building_relation(r, osm)]
    held = {way_id: (way.refs, way.tags) for way_id, way in ways.items()}
    resolve(held, {3}, relations, {20, 21, 22})
    assert list(relations.values()) == expected


@pytest.mark.parametrize("batch", [1, 3, 1 << 14])
def test_needed_rows(monkeypatch, batch):
    monkeypatch.setattr(osm_needs, "BATCH", batch)
    ids = np.array([-4, 1, 5, 9, 12], dtype=np.int64)
    ways = [array("q", [9, 1, 9]), array("q"), array("q", [7, 100, -4])]  # no 7 nor 100
    assert needed_rows(ids, iter(ways)).tolist() == [True, True, False, True, False]
    assert needed_rows(ids, [array("q")]).tolist() == [False] * 5
    assert needed_rows(ids, []).tolist() == [False] * 5
    assert needed_rows(np.zeros(0, np.int64), ways).tolist() == []


def test_osm_data_made_by_hand_dropped_nothing():
    nodes = NodeTable(np.array([1, 2], np.int64), np.zeros(2), np.zeros(2))
    osm = OsmData("x", nodes, {3: Way(3, (1, 2), {})})
    assert osm.dropped == {"nodes": 0, "ways": 0, "relations": 0}
    assert (osm.file_nodes, osm.file_ways, osm.file_relations) == (2, 1, 0)
    osm.dropped["nodes"] = 5
    assert osm.file_nodes == 7
    assert OsmData("y", nodes).dropped == {"nodes": 0, "ways": 0, "relations": 0}  # not shared
