"""Building multipolygon relations -> closed outer rings with their inner rings (plain Python).

OSM draws a courtyard building as a ``type=multipolygon`` relation: ``outer`` and ``inner``
member ways, each ring possibly split over several ways in any order and direction. Exports
often lack some members; a ring that cannot close without them is dropped, and a relation left
with no closed outer ring is skipped. Rings are node-id tuples here; coordinates come later
(:mod:`.building_geometry`). Inner rings are assigned to the outer that contains them, tested on
the nodes' lat/lon (containment does not depend on the projection at city scale) by
:mod:`.ring_nesting`, in bounded memory whatever the rings' sizes.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .count_fields import count_fields
from .osm_model import OsmData, Relation
from .ring_index import points_in_polygon  # noqa: F401 - its old home, still imported
from .ring_nesting import assign_inner_rings

_OUTER_ROLES = ("outer", "")  # an empty role is an old way of saying outer


@dataclass(frozen=True)
class MultipolygonBuilding:
    """One building relation: closed rings as node-id tuples (first id == last id).

    ``inner_rings_per_outer[i]`` holds the holes of ``outer_rings[i]``. ``tags`` are the
    relation's, or for an old-style relation (no ``building`` tag of its own) the outer way's
    tags overlaid with the relation's. ``outer_way_ids`` lists the member ways that make the
    outer rings, so the caller does not draw a building-tagged outer way a second time.
    """

    osm_id: int
    outer_rings: tuple[tuple[int, ...], ...]
    inner_rings_per_outer: tuple[tuple[tuple[int, ...], ...], ...]
    tags: Mapping[str, str]
    outer_way_ids: frozenset[int] = frozenset()


@dataclass
class MultipolygonSet:
    """The building multipolygons of a file and what was dropped on the way.

    ``relations == built + skipped_no_outer``. ``with_missing_members`` counts relations (built
    or not) naming a member way the file lacks; ``unclosed_rings`` counts rings dropped because
    they could not be closed; ``unassigned_inner`` counts inner rings inside no outer ring.
    """

    buildings: list[MultipolygonBuilding] = field(default_factory=list)
    relations: int = 0
    old_style: int = 0
    built: int = 0
    skipped_no_outer: int = 0
    with_missing_members: int = 0
    unclosed_rings: int = 0
    unassigned_inner: int = 0
    rings_missing_nodes: int = 0

    @property
    def consumed_way_ids(self) -> frozenset[int]:
        """Ways that make the outer rings of built relations."""
        ids: set[int] = set()
        for building in self.buildings:
            ids.update(building.outer_way_ids)
        return frozenset(ids)

    @property
    def counts(self) -> dict[str, int]:
        """The counts as a dict, for reports."""
        return count_fields(self)


def assemble_rings(
    way_refs: Sequence[Sequence[int]],
) -> tuple[list[tuple[int, ...]], int]:
    """Join ways end to end (reversing some where needed) into closed rings.

    Returns ``(rings, unclosed_count)``: each ring a node-id tuple whose first id equals its
    last; ``unclosed_count`` counts chains of ways that could not be closed (a member missing
    from the file, or broken data). Ways of fewer than two nodes are ignored.
    """
    rings: list[tuple[int, ...]] = []
    open_ways: list[tuple[int, ...]] = []
    for way in way_refs:
        refs = tuple(way)
        if len(refs) < 2:
            continue
        (rings if refs[0] == refs[-1] else open_ways).append(refs)

    # Every open way under both of its end nodes, to find the next way in O(1). Each list is
    # kept in reverse and used entries are popped off its end, so a node that many ways share
    # (a star of pieces) is not scanned again and again.
    at_node: dict[int, list[int]] = {}
    for index in range(len(open_ways) - 1, -1, -1):
        refs = open_ways[index]
        at_node.setdefault(refs[0], []).append(index)
        at_node.setdefault(refs[-1], []).append(index)
    used = [False] * len(open_ways)

    def take_at(node: int) -> "tuple[int, ...] | None":
        waiting = at_node.get(node)
        while waiting:
            index = waiting.pop()
            if not used[index]:
                used[index] = True
                return open_ways[index]
        return None

    unclosed = 0
    for index, refs in enumerate(open_ways):
        if used[index]:
            continue
        used[index] = True
        chain = _chain(refs, take_at)
        if chain[0] == chain[-1]:
            rings.append(tuple(chain))
        else:
            unclosed += 1
    return rings, unclosed


def _chain(refs: tuple[int, ...], take_at) -> list[int]:
    chain = list(refs)
    # Extend forwards until the chain closes or runs out ...
    while chain[0] != chain[-1]:
        nxt = take_at(chain[-1])
        if nxt is None:
            break
        chain.extend(nxt[1:] if nxt[0] == chain[-1] else nxt[-2::-1])
    # ... then backwards, so a ring with a gap is counted once, not once per piece. The pieces
    # before the start are gathered back to front and joined once (prepending each in turn
    # would copy the chain every time: quadratic in the pieces).
    head: list[int] = []  # reversed: its last item comes first in the chain
    first = chain[0]
    while first != chain[-1]:
        prev = take_at(first)
        if prev is None:
            break
        head.extend(prev[-2::-1] if prev[-1] == first else prev[1:])
        first = head[-1]
    head.reverse()
    return head + chain


def is_building_relation(relation: Relation, osm: OsmData) -> bool:
    """A ``type=multipolygon`` relation that is a building, by its own tags or its outer way's."""
    if relation.tags.get("type") != "multipolygon":
        return False
    if "building" in relation.tags:
        return relation.tags["building"] != "no"
    return _old_style_tags(relation, osm) is not None


def _old_style_tags(relation: Relation, osm: OsmData) -> "Mapping[str, str] | None":
    def tags_of(way_id: int) -> "Mapping[str, str] | None":
        way = osm.ways.get(way_id)
        return None if way is None else way.tags

    return old_style_building_tags(relation.members, tags_of)


def old_style_building_tags(
    members: Iterable, tags_of: "Callable[[int], Mapping[str, str] | None]"
) -> "Mapping[str, str] | None":
    """The tags of the first outer member way with ``building`` other than ``no``, or None.

    Old tagging: the relation only says type=multipolygon; the outer way says building=*.
    *members* have ``type``, ``ref`` and ``role``; *tags_of* gives a way's tags by id (None
    when the way is missing), so the parse (:mod:`.osm_needs`) asks the same question of the
    ways it holds as the building stage does of :class:`.OsmData`.
    """
    for member in members:
        if member.type == "way" and member.role in _OUTER_ROLES:
            tags = tags_of(member.ref)
            if tags is not None and tags.get("building", "no") != "no":
                return tags
    return None


def building_multipolygons(osm: OsmData) -> MultipolygonSet:
    """Every building multipolygon relation of *osm*, assembled into outer rings with holes."""
    result = MultipolygonSet()
    for relation in osm.relations.values():
        if relation.tags.get("type") != "multipolygon":
            continue
        tags: Mapping[str, str]
        if "building" in relation.tags:
            if relation.tags["building"] == "no":
                continue
            tags = relation.tags
            old_style = False
        else:
            way_tags = _old_style_tags(relation, osm)
            if way_tags is None:
                continue
            tags = {**way_tags, **relation.tags}
            old_style = True
        result.relations += 1
        result.old_style += old_style
        building = _assemble(relation, osm, tags, result)
        if building is None:
            result.skipped_no_outer += 1
        else:
            result.built += 1
            result.buildings.append(building)
    return result


def _assemble(
    relation: Relation, osm: OsmData, tags: Mapping[str, str], result: MultipolygonSet
) -> "MultipolygonBuilding | None":
    outer_refs, inner_refs, outer_ids = [], [], set()
    missing = False
    for member in relation.members:
        if member.type != "way":
            continue
        way = osm.ways.get(member.ref)
        if way is None:
            missing = True
            continue
        if member.role in _OUTER_ROLES:
            outer_refs.append(way.refs)
            outer_ids.add(way.id)
        elif member.role == "inner":
            inner_refs.append(way.refs)
    result.with_missing_members += missing

    outers, unclosed_outer = assemble_rings(outer_refs)
    inners, unclosed_inner = assemble_rings(inner_refs)
    result.unclosed_rings += unclosed_outer + unclosed_inner
    outer_rings = [(ring, _lonlat(ring, osm)) for ring in outers]
    inner_rings = [(ring, _lonlat(ring, osm)) for ring in inners]
    result.rings_missing_nodes += sum(
        1 for _, points in outer_rings + inner_rings if points is None
    )
    outer_rings = [(ring, points) for ring, points in outer_rings if points is not None]
    inner_rings = [(ring, points) for ring, points in inner_rings if points is not None]
    if not outer_rings:
        return None

    # Closed rings repeat their first point: the voters leave it out.
    owners = assign_inner_rings(
        [points[:-1] for _, points in outer_rings], [points[:-1] for _, points in inner_rings]
    )
    holes: list[list[tuple[int, ...]]] = [[] for _ in outer_rings]
    for (ring, _), owner in zip(inner_rings, owners.tolist(), strict=True):
        if owner < 0:
            result.unassigned_inner += 1
        else:
            holes[owner].append(ring)
    return MultipolygonBuilding(
        relation.id,
        tuple(ring for ring, _ in outer_rings),
        tuple(tuple(h) for h in holes),
        tags,
        frozenset(outer_ids),
    )


def _lonlat(ring: Sequence[int], osm: OsmData) -> "np.ndarray | None":
    rows = osm.nodes.index_of(ring)
    if (rows < 0).any():
        return None
    return np.stack((osm.nodes.lon[rows], osm.nodes.lat[rows]), axis=1)
