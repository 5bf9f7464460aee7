"""Buildings: OSM footprints in metres -> extruded walls and roofs (plain numpy, no bpy).

Footprints come from closed ways tagged ``building=*`` and from building multipolygon relations
(:mod:`.multipolygon`), each outer ring with the holes (courtyards) inside it. ``building:part``
outlines are not drawn: the ``building`` outline already gives the silhouette, and drawing both
would stack coincident walls. A way that makes the outer ring of a built multipolygon is drawn
only as part of the relation.

Rings are normalised to outer counter-clockwise, holes clockwise, so walls built from them face
away from the solid and roof n-gons face up. A roof with holes cannot be one Blender face; it is
returned as a :class:`HoledRoof` for the Blender shell to triangulate (``tessellate_polygon``)
and turn into faces with :func:`triangles_to_mesh`.
"""

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from .count_fields import count_fields
from .errors import SettingsError
from .mesh_arrays import MeshArrays
from .multipolygon import MultipolygonSet, building_multipolygons
from .osm_model import NodeTable, OsmData
from .strict_numbers import NumberError, parse_decimal, strip_ascii

#: Default height (m) of a building without height or level tags.
DEFAULT_HEIGHT = 9.0
#: Rings enclosing less than this (m^2) are slivers or repeated points: skipped.
MIN_RING_AREA = 0.01
# Taller than any building; a larger tag value is a typo (mm, or a level count in the wrong key).
_MAX_HEIGHT = 1000.0
_MAX_LEVELS = 200.0

_UNITS = {
    None: 1.0,
    "m": 1.0,
    "meter": 1.0,
    "meters": 1.0,
    "metre": 1.0,
    "metres": 1.0,
    "cm": 0.01,
    "mm": 0.001,
    "ft": 0.3048,
    "feet": 0.3048,
    "foot": 0.3048,
    "'": 0.3048,
}
# re.ASCII: only 0-9 are digits (full-width or Arabic-Indic digits fall back to the default).
_LENGTH = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)\s*([a-z']+)?$", re.ASCII)
_FEET_INCHES = re.compile(r"^(\d+(?:\.\d+)?)\s*'\s*(\d+(?:\.\d+)?)\s*(?:\"|'')$", re.ASCII)
_DECIMAL_COMMA = re.compile(r"\d+,\d+\s*[a-z']*", re.ASCII)


def parse_length(text: "str | None") -> "float | None":
    r"""Metres from an OSM length value ("12", "12.5 m", "12,5", "40'", "40'6\"", "40 ft").

    Returns None for anything else (ranges, lists, words), so the caller can fall back.
    """
    if text is None:
        return None
    value = strip_ascii(str(text)).lower()
    if _DECIMAL_COMMA.fullmatch(value):
        value = value.replace(",", ".")  # decimal comma
    match = _FEET_INCHES.match(value)
    if match:
        return float(match.group(1)) * 0.3048 + float(match.group(2)) * 0.0254
    match = _LENGTH.match(value)
    if match is None or match.group(2) not in _UNITS:
        return None
    metres = float(match.group(1)) * _UNITS[match.group(2)]
    return metres if math.isfinite(metres) else None


def _parse_levels(text: "str | None") -> "float | None":
    if text is None:
        return None
    value = strip_ascii(str(text)).replace(",", ".")
    try:
        levels = parse_decimal(value)  # strict: "1_0" is not 10, "nan" not a number
    except NumberError:
        return None
    return levels if 0 <= levels <= _MAX_LEVELS else None


def building_height(
    tags: Mapping[str, str], default_height: float = DEFAULT_HEIGHT, level_height: float = 3.0
) -> tuple[float, float]:
    """``(height, min_height)`` in metres from a building's tags; always ``min_height < height``.

    Height: a readable ``height`` tag, else (``building:levels`` + ``roof:levels``) x
    *level_height*, else *default_height*. Bottom: ``min_height``, else ``building:min_level``
    x *level_height*, else 0. A tagged bottom at or above a tagged top is dropped (bad data); a
    tagged bottom above the default top raises the top one level above the bottom.
    """
    if not (math.isfinite(default_height) and default_height > 0):
        raise SettingsError("default_height", f"must be a positive number, not {default_height}")
    return _height_of(tags, float(default_height), float(level_height))


def _height_of(
    tags: Mapping[str, str], default_height: float, level_height: float, seen: "dict | None" = None
):
    get = tags.get
    key = (
        get("height"),
        get("building:levels"),
        get("roof:levels"),
        get("min_height"),
        get("building:min_level"),
    )
    if seen is None:
        return _height_from(key, default_height, level_height)
    # Most buildings share a handful of tag combinations (often none): one collect_buildings
    # call parses each combination once. A plain dict, dropped with the call: a lookup is all
    # a repeated combination costs (a shared, locked cache cost as much as the rest of a
    # building, and three times the parse on a miss).
    found = seen.get(key)
    if found is None:
        found = seen[key] = _height_from(key, default_height, level_height)
    return found


def _height_from(key: tuple, default_height: float, level_height: float) -> tuple[float, float]:
    height_tag, levels_tag, roof_levels_tag, min_height_tag, min_level_tag = key
    height = parse_length(height_tag)
    if height is not None and not 0 < height <= _MAX_HEIGHT:
        height = None
    if height is None:
        levels = _parse_levels(levels_tag)
        if levels is not None:
            levels += _parse_levels(roof_levels_tag) or 0.0
            if levels > 0:
                height = levels * level_height
    tagged = height is not None
    if height is None:
        height = default_height

    min_height = parse_length(min_height_tag)
    if min_height is None or not 0 <= min_height <= _MAX_HEIGHT:
        min_level = _parse_levels(min_level_tag)
        min_height = min_level * level_height if min_level is not None else 0.0
    if min_height >= height:
        if tagged:
            min_height = 0.0
        else:
            height = min_height + level_height
    return float(height), float(min_height)


@dataclass(frozen=True, slots=True)
class Footprint:
    """One extrudable footprint in metres.

    ``outer`` (n, 2) counter-clockwise without the closing duplicate point; ``holes`` each
    (m, 2) clockwise. ``source`` is "way" or "relation" (one relation with several outer rings
    gives several footprints sharing its ``osm_id``).
    """

    osm_id: int
    outer: np.ndarray
    holes: list[np.ndarray]
    height: float
    min_height: float = 0.0
    source: str = "way"


@dataclass
class BuildingSet:
    """The footprints of a file and what happened to every building way and relation.

    ``ways`` counts ``building`` ways taken on their own (those that are the outer ring of a
    built relation are drawn with it instead: ``merged_into_relations``); ``relations`` counts
    building multipolygon relations. ``built`` counts footprints (``built_from_relations`` of
    them from relations: one per outer ring). Skips: ``skipped_unclosed`` (way not a ring),
    ``skipped_missing_nodes`` / ``skipped_degenerate`` (outer rings of ways and relations),
    ``outside_box`` (centroid outside the box), ``relations_skipped`` (no closed outer ring,
    details in ``multipolygons``), ``holes_dropped`` (inner rings with missing nodes or no
    area), ``parts_ignored`` (``building:part`` ways, not drawn). So ``ways`` + outer rings of
    relations == ``built`` + the four ring and way skips.
    """

    footprints: list[Footprint] = field(default_factory=list)
    ways: int = 0
    relations: int = 0
    built: int = 0
    built_from_relations: int = 0
    with_holes: int = 0
    skipped_missing_nodes: int = 0
    skipped_degenerate: int = 0
    skipped_unclosed: int = 0
    outside_box: int = 0
    relations_skipped: int = 0
    holes_dropped: int = 0
    merged_into_relations: int = 0
    parts_ignored: int = 0
    multipolygons: "MultipolygonSet | None" = None

    @property
    def counts(self) -> dict[str, int]:
        """The counts as a dict, for reports."""
        return count_fields(self)


_OK, _MISSING, _DEGENERATE, _OUTSIDE = 0, 1, 2, 3


@dataclass
class _Rings:
    """Rings packed: ``points`` (P, 2); ring i is ``points[starts[i]:][:sizes[i]]``."""

    points: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray
    status: np.ndarray
    centroids: np.ndarray

    def views(self) -> list[np.ndarray]:
        """Every ring as a view into ``points`` (empty for skipped rings)."""
        points = self.points
        return [
            points[start : start + size]
            for start, size in zip(self.starts.tolist(), self.sizes.tolist(), strict=True)
        ]

    def verdicts(self, box) -> list[int]:
        """Per ring: ``_OK``, ``_MISSING``, ``_DEGENERATE`` or ``_OUTSIDE`` (centroid off *box*)."""
        verdict = self.status.astype(np.int8)
        if box is not None:
            min_x, min_y, max_x, max_y = box
            x, y = self.centroids[:, 0], self.centroids[:, 1]
            outside = ~((x >= min_x) & (x <= max_x) & (y >= min_y) & (y <= max_y))
            verdict[(verdict == _OK) & outside] = _OUTSIDE
        return verdict.tolist()


def _pack_rings(
    refs: Sequence[Sequence[int]], ccw: np.ndarray, nodes: NodeTable, xy: np.ndarray
) -> _Rings:
    # All rings at once: one node lookup, then per-ring sums with bincount, no per-ring numpy.
    count = len(refs)
    lengths = np.fromiter((len(r) for r in refs), np.int64, count)
    all_refs = np.fromiter(chain.from_iterable(refs), np.int64, int(lengths.sum()))
    ring_of = np.repeat(np.arange(count), lengths)
    closing = np.cumsum(lengths) - 1
    keep = np.ones(len(all_refs), bool)
    keep[closing[lengths > 0]] = False  # rings repeat their first node at the end
    rows, ring_of = nodes.index_of(all_refs[keep]), ring_of[keep]

    status = np.full(count, _OK, np.int8)
    missing = np.bincount(ring_of, weights=rows < 0, minlength=count) > 0
    status[missing] = _MISSING
    good = ~missing[ring_of]
    rows, ring_of = rows[good], ring_of[good]
    points = xy[rows]

    # Drop points equal to their predecessor in the ring (cyclically).
    sizes = np.bincount(ring_of, minlength=count)
    starts = np.zeros(count, np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    prev = np.arange(len(points)) - 1
    firsts = starts[sizes > 0]
    prev[firsts] = firsts + sizes[sizes > 0] - 1
    distinct = np.any(points != points[prev], axis=1) if len(points) else np.zeros(0, bool)
    points, ring_of = points[distinct], ring_of[distinct]

    sizes = np.bincount(ring_of, minlength=count)
    starts = np.zeros(count, np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    nxt = np.arange(len(points)) + 1
    has = sizes > 0
    nxt[starts[has] + sizes[has] - 1] = starts[has]
    x, y = points[:, 0], points[:, 1]
    area = 0.5 * np.bincount(
        ring_of, weights=x * y[nxt] - x[nxt] * y, minlength=count
    )  # shoelace; counter-clockwise > 0
    degenerate = (status == _OK) & ((sizes < 3) | (np.abs(area) < MIN_RING_AREA))
    status[degenerate] = _DEGENERATE

    # Reverse the rings wound the wrong way, all at once via an index permutation.
    flip = (status == _OK) & ((area > 0) != np.asarray(ccw, bool))
    order = np.arange(len(points))
    flipped = flip[ring_of]
    local = order - starts[ring_of]
    order[flipped] = (starts[ring_of] + sizes[ring_of] - 1 - local)[flipped]
    points = points[order]

    with np.errstate(invalid="ignore", divide="ignore"):
        centroids = np.stack(
            (
                np.bincount(ring_of, weights=points[:, 0], minlength=count) / sizes,
                np.bincount(ring_of, weights=points[:, 1], minlength=count) / sizes,
            ),
            axis=1,
        )
    return _Rings(points, starts, sizes, status, centroids)


def collect_buildings(
    osm: OsmData,
    xy: np.ndarray,
    box=None,
    default_height: float = DEFAULT_HEIGHT,
    level_height: float = 3.0,
) -> BuildingSet:
    """The building footprints of *osm*; *xy* (N, 2) metres per row of ``osm.nodes``.

    *box* ``(min_x, min_y, max_x, max_y)`` keeps footprints whose outer ring's centroid (mean of
    its points) lies inside it; None keeps all. Heights from :func:`building_height`.
    """
    building_height({}, default_height, level_height)  # refuses a bad default up front
    default_height, level_height = float(default_height), float(level_height)
    xy = np.asarray(xy, np.float64)
    result = BuildingSet()
    multipolygons = building_multipolygons(osm)
    result.multipolygons = multipolygons
    result.relations = multipolygons.relations
    result.relations_skipped = multipolygons.skipped_no_outer
    consumed = multipolygons.consumed_way_ids

    ways = []
    for way in osm.ways.values():
        building = way.tags.get("building")
        if building is None or building == "no":
            # A part that is the outer way of a building relation is drawn with the relation.
            result.parts_ignored += "building:part" in way.tags and way.id not in consumed
            continue
        if way.id in consumed:
            result.merged_into_relations += 1
            continue
        result.ways += 1
        if len(way.refs) < 2 or way.refs[0] != way.refs[-1]:
            result.skipped_unclosed += 1
            continue
        ways.append(way)

    seen: dict = {}  # heights by tags, for this call
    if ways:
        rings = _pack_rings([w.refs for w in ways], np.ones(len(ways), bool), osm.nodes, xy)
        for way, ring, verdict in zip(ways, rings.views(), rings.verdicts(box), strict=True):
            if verdict != _OK:
                _count_skip(result, verdict)
                continue
            height, min_height = _height_of(way.tags, default_height, level_height, seen)
            result.footprints.append(Footprint(way.id, ring, [], height, min_height, "way"))

    _add_relations(result, multipolygons, osm, xy, box, default_height, level_height)
    result.built = len(result.footprints)
    result.with_holes = sum(1 for f in result.footprints if f.holes)
    return result


def _count_skip(result: BuildingSet, verdict: int) -> None:
    if verdict == _MISSING:
        result.skipped_missing_nodes += 1
    elif verdict == _DEGENERATE:
        result.skipped_degenerate += 1
    else:
        result.outside_box += 1


def _add_relations(result, multipolygons, osm, xy, box, default_height, level_height) -> None:
    refs, ccw = [], []
    for building in multipolygons.buildings:
        for outer, inners in zip(building.outer_rings, building.inner_rings_per_outer, strict=True):
            refs.append(outer)
            ccw.append(True)
            refs.extend(inners)
            ccw.extend([False] * len(inners))
    if not refs:
        return
    rings = _pack_rings(refs, np.asarray(ccw), osm.nodes, xy)
    views, verdicts = rings.views(), rings.verdicts(box)
    index = 0
    for building in multipolygons.buildings:
        height, min_height = _height_of(building.tags, default_height, level_height)
        for inners in building.inner_rings_per_outer:
            outer_index, index = index, index + 1 + len(inners)
            if verdicts[outer_index] != _OK:
                _count_skip(result, verdicts[outer_index])
                continue
            holes = []
            for hole_index in range(outer_index + 1, index):
                # A hole's own centroid may fall outside the box; only the outer's decides.
                if verdicts[hole_index] in (_OK, _OUTSIDE):
                    holes.append(views[hole_index])
                else:
                    result.holes_dropped += 1
            result.footprints.append(
                Footprint(
                    building.osm_id, views[outer_index], holes, height, min_height, "relation"
                )
            )
            result.built_from_relations += 1


#: The largest roof with holes the Blender shell leaves to its quick but quadratic filler
#: (:mod:`.roof_triangulation`); larger ones take the triangulation of about 4 KiB a point.
SCANFILL_MAX_POINTS = 2000
SCANFILL_MAX_RINGS = 32


def is_large_roof(points: int, rings: int) -> bool:
    """Whether a roof of *points* in *rings* (outer and holes) is triangulated the costly way."""
    return points > SCANFILL_MAX_POINTS or rings > SCANFILL_MAX_RINGS


@dataclass(frozen=True)
class HoledRoof:
    """The roof of a footprint with holes: ``rings`` = [outer, *holes] (k, 2) at height ``z``."""

    rings: list[np.ndarray]
    z: float


@dataclass(frozen=True)
class BuildingMesh:
    """Walls of every footprint plus the roofs that are single n-gons; holed roofs apart."""

    walls_and_roofs: MeshArrays
    holed_roofs: list[HoledRoof]


def building_mesh(footprints: Sequence[Footprint]) -> BuildingMesh:
    """Extrude *footprints*: one quad per ring edge (outer and hole rings), a roof n-gon each.

    Each ring point gives a bottom vertex (``min_height``) and a top vertex (``height``) shared
    by the two walls meeting there. Rings must be wound as :class:`Footprint` says (outer
    counter-clockwise, holes clockwise) so walls face out of the solid. Bottoms are not made:
    the ground hides them. Footprints with holes put their roof in ``holed_roofs``.
    """
    rings: list[np.ndarray] = []
    bottoms: list[float] = []
    tops: list[float] = []
    roof_ring: list[bool] = []
    holed: list[HoledRoof] = []
    for footprint in footprints:
        rings.append(footprint.outer)
        bottoms.append(footprint.min_height)
        tops.append(footprint.height)
        roof_ring.append(not footprint.holes)
        if footprint.holes:
            rings.extend(footprint.holes)
            count = len(footprint.holes)
            bottoms.extend([footprint.min_height] * count)
            tops.extend([footprint.height] * count)
            roof_ring.extend([False] * count)
            holed.append(HoledRoof([footprint.outer, *footprint.holes], footprint.height))
    if not rings:
        return BuildingMesh(MeshArrays.empty(), holed)

    sizes = np.fromiter((len(r) for r in rings), np.int64, len(rings))
    points = np.concatenate(rings).astype(np.float64, copy=False)
    total = len(points)
    starts = np.zeros(len(rings), np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])

    vertices = np.empty((2 * total, 3), np.float32)
    vertices[:total, :2] = points
    vertices[total:, :2] = points
    vertices[:total, 2] = np.repeat(np.asarray(bottoms, np.float64), sizes)
    vertices[total:, 2] = np.repeat(np.asarray(tops, np.float64), sizes)

    here = np.arange(total, dtype=np.int64)
    nxt = here + 1
    nxt[starts + sizes - 1] = starts
    # bottom i, bottom next, top next, top i: counter-clockwise seen from outside the solid.
    walls = np.stack((here, nxt, nxt + total, here + total), axis=1).ravel()

    on_roof = np.repeat(np.asarray(roof_ring, bool), sizes)
    roof_loops = np.flatnonzero(on_roof) + total
    roof_sizes = sizes[np.asarray(roof_ring, bool)]

    loop_totals = np.concatenate((np.full(total, 4, np.int64), roof_sizes)).astype(np.int32)
    loop_starts = np.zeros(len(loop_totals), np.int64)
    np.cumsum(loop_totals[:-1], out=loop_starts[1:])
    mesh = MeshArrays(
        vertices,
        loop_starts.astype(np.int32),
        loop_totals,
        np.concatenate((walls, roof_loops)).astype(np.int32),
    )
    return BuildingMesh(mesh, holed)


def triangles_to_mesh(rings: Sequence[np.ndarray], z: float, triangles) -> MeshArrays:
    """Roof triangles at height *z*: *triangles* (T, 3) index the concatenated *rings* points.

    Triangles are flipped where needed so all face up, whatever order the triangulator gave.
    """
    points = np.concatenate([np.asarray(r, np.float64).reshape(-1, 2) for r in rings])
    triangles = np.asarray(triangles, np.int64).reshape(-1, 3)
    a, b, c = (points[triangles[:, k]] for k in range(3))
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    triangles = np.where((cross < 0)[:, None], triangles[:, ::-1], triangles)
    vertices = np.empty((len(points), 3), np.float32)
    vertices[:, :2] = points
    vertices[:, 2] = z
    count = len(triangles)
    return MeshArrays(
        vertices,
        np.arange(0, 3 * count, 3, dtype=np.int32),
        np.full(count, 3, np.int32),
        triangles.astype(np.int32).ravel(),
    )
