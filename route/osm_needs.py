# SPDX-License-Identifier: GPL-3.0-or-later
"""Which ways, relations and nodes of an OSM file LeanRoute needs (plain Python and numpy).

:mod:`.osm_parse` asks :func:`way_need` and :func:`relation_need` as each element ends, keeps
what is needed, drops what is not, and holds the undecided until the file has been read;
:func:`resolve` then settles them and :func:`needed_rows` picks the nodes of the kept ways.

The rule, from what the scene is built of (:mod:`.road_geometry`, :mod:`.road_graph`,
:mod:`.building_geometry`, :mod:`.multipolygon`):

- a way with ``highway``, ``building`` or ``building:part`` (any value; ``building:part`` ways
  are counted by collect_buildings) is **kept**;
- a way with a key of :data:`FEATURE_KEYS` (landuse, natural, waterway, railway, barrier,
  power, leisure, ...) and none of those is another kind of map feature: **dropped** as it ends;
- any other way (untagged, or with only keys such as ``source``, ``note``, ``layer``, ``area``,
  ``name``, ``heritage``, ``amenity``) **may** be a ring of a building multipolygon: relations
  come after the ways in a file, so it is held to the end and kept only if a kept relation
  names it as a member. Old-style multipolygons carry their tags on the outer way; its
  ``building`` tag keeps it anyway, and any other tags (``area=yes``, ``layer=1``, a name,
  heritage ids) are not reason enough to drop a way. The list of feature keys is deliberately
  short: a key left out only costs memory until the end of the file, while a key put in drops
  a building's ring whenever that way is shared with a building relation. Keys that often
  describe what a building is used for (``amenity``, ``shop``, ``tourism``, ``man_made``,
  ``historic``, ``public_transport``) are therefore not feature keys;
- a relation is kept when it is ``type=multipolygon`` with ``building`` other than ``no``;
  other multipolygons without a ``building`` tag are held to the end and kept when one of
  their outer (or role-less) member ways has ``building`` other than ``no`` (old style, as
  :func:`.multipolygon.is_building_relation` decides); every other relation is dropped as it
  ends;
- a node is kept when a kept way refers to it (node tags are never kept, and nodes that are
  only relation members are dropped).

Relations keep every member, including those dropped or missing from the file. The one
difference a consumer can see, apart from the missing objects: a building relation whose ring
is a way tagged with a feature key loses that ring (an outer shared with a wall tagged
``barrier``: the building is skipped; a courtyard mapped as an inner way tagged
``leisure=garden``: the courtyard gets a roof). None of the three real extracts in the
project's test data has one: every member way of their building relations is building-tagged,
untagged, or carries annotation tags only. Holding those ways to the end as well (an empty
:data:`FEATURE_KEYS`) would make the rule exact; measured, it raises the parse's peak by
0.05 MiB on krems and 0.65 MiB (8 %) on eight copies of berlin, and by the tags and 8 bytes a
node reference of every such way on any file.
"""

from array import array
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Protocol

import numpy as np

from .multipolygon import _OUTER_ROLES, old_style_building_tags

#: :func:`way_need` / :func:`relation_need` answers.
DROP, MAYBE, KEEP = 0, 1, 2

#: Ways with any of these keys are always kept (:func:`way_need` tests them inline).
KEPT_WAY_KEYS = ("highway", "building", "building:part")

#: Keys that make a way another kind of map feature; such a way (without highway or building)
#: is dropped as it ends. Deliberately short: see the module docstring.
FEATURE_KEYS = frozenset(
    {
        "aerialway",
        "aeroway",
        "area:highway",
        "barrier",
        "boundary",
        "golf",
        "landuse",
        "leisure",
        "military",
        "natural",
        "piste:type",
        "place",
        "power",
        "railway",
        "route",
        "water",
        "waterway",
    }
)

#: Member roles that make an outer ring: those :mod:`.multipolygon` reads.
OUTER_ROLES = _OUTER_ROLES


def way_need(tags: Mapping[str, str]) -> int:
    """KEEP (highway or building), DROP (another feature) or MAYBE (a possible ring)."""
    if "highway" in tags or "building" in tags or "building:part" in tags:
        return KEEP
    return MAYBE if FEATURE_KEYS.isdisjoint(tags) else DROP


def relation_need(tags: Mapping[str, str]) -> int:
    """KEEP a building multipolygon, MAYBE one without a building tag (old style), else DROP."""
    if tags.get("type") != "multipolygon":
        return DROP
    building = tags.get("building")
    if building is None:
        return MAYBE
    return DROP if building == "no" else KEEP


class _HasMembers(Protocol):
    members: tuple


def resolve(
    ways: MutableMapping[int, tuple],
    maybe_ways: set[int],
    relations: MutableMapping[int, _HasMembers],
    maybe_relations: set[int],
) -> None:
    """Settle the held-back ways and relations once the whole file is read, in place.

    *ways* maps way id to ``(refs, tags)``, *relations* relation id to an object with
    ``members`` (``type``, ``ref``, ``role``); the ids in *maybe_ways* / *maybe_relations* are
    the undecided among them. A held relation stays when an outer member way has a building
    tag (only kept ways can have one); a held way stays when a relation that stays names it.
    The order of what stays is unchanged.
    """
    for relation_id in maybe_relations:
        if not _old_style_building(relations[relation_id], ways):
            del relations[relation_id]
    named = {
        member.ref
        for relation in relations.values()
        for member in relation.members
        if member.type == "way"
    }
    for way_id in maybe_ways - named:
        del ways[way_id]


def _old_style_building(relation: _HasMembers, ways: Mapping[int, tuple]) -> bool:
    def tags_of(way_id: int) -> "Mapping[str, str] | None":
        way = ways.get(way_id)
        return None if way is None else way[1]

    return old_style_building_tags(relation.members, tags_of) is not None


def needed_rows(node_ids: np.ndarray, refs: Iterable[array]) -> np.ndarray:
    """Boolean mask over *node_ids* (int64, ascending, unique): the nodes the ways refer to.

    *refs* yields each kept way's node references as an ``array('q')``. They are looked up
    a batch of :data:`BATCH` references at a time, so the temporaries stay small whatever
    the number of ways.
    """
    keep = np.zeros(len(node_ids), dtype=bool)
    if not len(node_ids):
        return keep
    batch = array("q")
    for way_refs in refs:
        batch.extend(way_refs)
        if len(batch) >= BATCH:
            _mark(node_ids, batch, keep)
            batch = array("q")
    if batch:
        _mark(node_ids, batch, keep)
    return keep


#: Node references looked up at a time by :func:`needed_rows`.
BATCH = 1 << 14


def _mark(node_ids: np.ndarray, batch: array, keep: np.ndarray) -> None:
    wanted = np.frombuffer(batch, dtype=np.int64)
    rows = np.searchsorted(node_ids, wanted)
    inside = rows < len(node_ids)
    rows = rows[inside]
    keep[rows[node_ids[rows] == wanted[inside]]] = True
