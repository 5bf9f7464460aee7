"""Roads as flat ribbons: OSM highway ways -> polylines in metres -> quads (plain numpy, no bpy).

A way becomes one :class:`RoadLine` per run of nodes present in the file; each line becomes a
ribbon of ``width`` metres, one quad per segment, its vertices offset left/right along the mitred
normal. Ribbons of one group (``major``, ``minor``, ``service``, ``path``) share a mesh and a
small z offset, so major roads draw over minor ones where they meet.
"""

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import NamedTuple

import numpy as np

from .count_fields import count_fields
from .mesh_arrays import MeshArrays
from .osm_model import OsmData
from .polylines import moved, split_lines, without_repeats


class RoadClass(NamedTuple):
    """How one ``highway=*`` value is drawn: its group, default width (m) and z offset (m)."""

    group: str
    width: float
    z: float


#: Groups in drawing order; also the material index of :func:`road_mesh`.
ROAD_GROUPS: tuple[str, ...] = ("major", "minor", "service", "path")

# z per group: a few centimetres apart, enough to win the depth test where ribbons overlap.
_Z = {"major": 0.08, "minor": 0.06, "service": 0.04, "path": 0.02}

#: ``highway=*`` value -> how it is drawn. Values not listed (platform, construction, elevator,
#: proposed, ...) are not roads to drive or walk along and are skipped.
ROAD_CLASSES: dict[str, RoadClass] = {
    name: RoadClass(group, width, _Z[group])
    for name, group, width in (
        ("motorway", "major", 11.0),
        ("trunk", "major", 10.0),
        ("primary", "major", 9.0),
        ("secondary", "major", 8.0),
        ("motorway_link", "major", 5.0),
        ("trunk_link", "major", 5.0),
        ("primary_link", "major", 5.0),
        ("secondary_link", "major", 5.0),
        ("tertiary", "minor", 7.0),
        ("tertiary_link", "minor", 4.5),
        ("unclassified", "minor", 6.0),
        ("residential", "minor", 6.0),
        ("living_street", "minor", 5.0),
        ("road", "minor", 6.0),
        ("busway", "minor", 6.0),
        ("service", "service", 4.0),
        ("track", "service", 3.0),
        ("pedestrian", "path", 5.0),
        ("footway", "path", 2.0),
        ("path", "path", 1.5),
        ("cycleway", "path", 2.0),
        ("bridleway", "path", 2.0),
        ("steps", "path", 2.0),
    )
}

#: Width of one lane (m) when ``lanes=*`` sets the width.
LANE_WIDTH = 3.25
# Tag widths outside this range (m) are typos or mean something else: keep the class width.
_SANE_WIDTH = (0.5, 60.0)
_MAX_LANES = 16
# ASCII digits only (re.ASCII): full-width or Arabic-Indic digits are not a width.
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(m|metres?|meters?)?\s*$", re.IGNORECASE | re.ASCII)
_LANES = re.compile(r"\s*[0-9]{1,3}\s*", re.ASCII)


@dataclass(frozen=True)
class RoadLine:
    """One drawable polyline of a highway way: ``xy`` (n, 2) float64 metres, n >= 2."""

    osm_id: int
    highway: str
    group: str
    width: float
    xy: np.ndarray

    @property
    def z(self) -> float:
        """Height of this line's ribbon above the ground (its group's offset)."""
        road_class = ROAD_CLASSES.get(self.highway)
        return road_class.z if road_class is not None else _Z.get(self.group, 0.0)


@dataclass
class RoadSet:
    """The road lines of a file and what happened to every highway way.

    ``highway_ways == built + skipped_area + skipped_class + skipped_missing_nodes
    + skipped_degenerate + outside_box``. ``built`` counts ways; ``len(roads)`` counts lines
    (a way with missing nodes in the middle gives one line per piece, counted in ``split_at_gaps``).
    """

    roads: list[RoadLine] = field(default_factory=list)
    highway_ways: int = 0
    built: int = 0
    split_at_gaps: int = 0
    skipped_missing_nodes: int = 0
    skipped_degenerate: int = 0
    skipped_area: int = 0
    skipped_class: int = 0
    outside_box: int = 0

    @property
    def counts(self) -> dict[str, int]:
        """The counts as a dict, for reports."""
        # "lines" (pieces of ways) is not a counter of its own: len(roads).
        return {"highway_ways": self.highway_ways, "lines": len(self.roads), **count_fields(self)}


def parse_metres(text: "str | None") -> "float | None":
    """A plain length in metres from a tag value ("7", "7.5 m", "7,5"), or None if it is not one."""
    if text is None:
        return None
    match = _NUMBER.match(str(text))
    if match is None:
        return None
    value = float(match.group(1).replace(",", "."))
    return value if math.isfinite(value) else None


def road_width(tags: Mapping[str, str], default: float) -> float:
    """Width of a road (m): a sane ``width=*`` first, else ``lanes=*`` x :data:`LANE_WIDTH`."""
    width = parse_metres(tags.get("width"))
    if width is not None and _SANE_WIDTH[0] <= width <= _SANE_WIDTH[1]:
        return width
    lanes = tags.get("lanes")
    # str.isdigit() is true for "²", which int() refuses: the lanes are read by a strict pattern.
    if lanes is not None and _LANES.fullmatch(lanes):
        count = int(lanes)
        if 1 <= count <= _MAX_LANES:
            return count * LANE_WIDTH
    return default


def _in_box(xy: np.ndarray, box) -> np.ndarray:
    min_x, min_y, max_x, max_y = box
    return (xy[:, 0] >= min_x) & (xy[:, 0] <= max_x) & (xy[:, 1] >= min_y) & (xy[:, 1] <= max_y)


def collect_roads(osm: OsmData, xy: np.ndarray, box=None) -> RoadSet:
    """The drawable road lines of *osm*; *xy* (N, 2) metres per row of ``osm.nodes``.

    *box* ``(min_x, min_y, max_x, max_y)`` keeps only ways with a node inside it (None keeps all).
    A way whose nodes are partly missing from the file is split at the gaps; only a way with no
    run of two present nodes is skipped for missing nodes. ``area=yes`` highways (squares) and
    highway values not in :data:`ROAD_CLASSES` are skipped and counted.
    """
    xy = np.asarray(xy, np.float64)
    result = RoadSet()
    candidates = []
    for way in osm.ways.values():
        highway = way.tags.get("highway")
        if highway is None:
            continue
        result.highway_ways += 1
        if way.tags.get("area") == "yes":
            result.skipped_area += 1
            continue
        road_class = ROAD_CLASSES.get(highway)
        if road_class is None:
            result.skipped_class += 1
            continue
        candidates.append((way, highway, road_class))
    pieces_of = _pieces(candidates, osm, xy, box)
    for (way, highway, road_class), (verdict, pieces, gaps) in zip(
        candidates, pieces_of, strict=True
    ):
        if verdict != "built":
            setattr(result, verdict, getattr(result, verdict) + 1)
            continue
        width = road_width(way.tags, road_class.width)
        result.built += 1
        result.split_at_gaps += gaps
        result.roads.extend(
            RoadLine(way.id, highway, road_class.group, width, piece) for piece in pieces
        )
    return result


def _pieces(candidates, osm: OsmData, xy: np.ndarray, box) -> list[tuple[str, list, bool]]:
    """Per candidate way: (verdict, its pieces, split at gaps?); verdict "built" or a counter.

    All ways at once (one node lookup, per-way sums with bincount), so the cost per way is a
    few array elements, not a dozen numpy calls: a city of 100,000 buildings has thousands
    of highway ways. A way with nodes missing from the file takes the per-way path.
    """
    count = len(candidates)
    if not count:
        return []
    lengths = np.fromiter((len(c[0].refs) for c in candidates), np.int64, count)
    refs = np.fromiter(chain.from_iterable(c[0].refs for c in candidates), np.int64, lengths.sum())
    rows = osm.nodes.index_of(refs)
    way_of = np.repeat(np.arange(count), lengths)
    complete = np.bincount(way_of, weights=rows < 0, minlength=count) == 0
    # Complete ways: drop points equal to the one before in the same way, then count.
    points = xy[np.where(rows < 0, 0, rows)] if len(xy) else np.zeros((len(rows), 2))
    keep = moved(points, way_of) & complete[way_of]
    points, way_of = points[keep], way_of[keep]
    pieces, sizes = split_lines(points, way_of, count)
    touches = np.ones(count, bool)
    if box is not None:
        inside = _in_box(points, box)
        touches = np.bincount(way_of, weights=inside, minlength=count) > 0
    found = []
    for index, (way, _, _) in enumerate(candidates):
        if not complete[index]:
            found.append(_pieces_of_incomplete(way, osm, xy, box))
        elif lengths[index] < 2:
            found.append(("skipped_missing_nodes", [], False))
        elif sizes[index] < 2:
            found.append(("skipped_degenerate", [], False))
        elif not touches[index]:
            found.append(("outside_box", [], False))
        else:
            found.append(("built", [pieces[index]], False))
    return found


def _pieces_of_incomplete(way, osm: OsmData, xy: np.ndarray, box) -> tuple[str, list, bool]:
    # Nodes missing from the file: the runs of present nodes, each its own piece.
    rows = osm.nodes.index_of(way.refs)
    present = rows >= 0
    pieces = _runs(rows, present)
    if not pieces:
        return "skipped_missing_nodes", [], False
    pieces = [p for p in (without_repeats(xy[r]) for r in pieces) if len(p) >= 2]
    if not pieces:
        return "skipped_degenerate", [], False
    if box is not None:
        pieces = [p for p in pieces if _in_box(p, box).any()]
        if not pieces:
            return "outside_box", [], False
    return "built", pieces, not present.all()


def _runs(rows: np.ndarray, present: np.ndarray) -> list[np.ndarray]:
    # Runs of consecutive present nodes with at least two nodes (one segment).
    if present.all():
        return [rows] if len(rows) >= 2 else []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], present.astype(np.int8), [0]))))
    return [rows[a:b] for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= 2]


def ribbon_arrays(
    lines: Sequence[np.ndarray], widths, z, *, miter_limit: float = 2.0
) -> MeshArrays:
    """One mesh of ribbons: each polyline in *lines* (n, 2) becomes n - 1 quads.

    *widths* and *z* give one value per line (or one for all). At a bend the two vertices sit on
    the mitred normal, their distance from the centre line capped at ``miter_limit`` x half the
    width, so a hairpin does not shoot a spike. A closed line (first point == last) is mitred at
    its closing point too. Faces wind counter-clockwise seen from above (normals up).
    """
    lines = [without_repeats(np.asarray(line, np.float64)[:, :2]) for line in lines]
    count = len(lines)
    widths = np.broadcast_to(np.asarray(widths, np.float64), (count,))
    z = np.broadcast_to(np.asarray(z, np.float64), (count,))
    keep = [i for i, line in enumerate(lines) if len(line) >= 2]
    if not keep:
        return MeshArrays.empty()
    lines = [lines[i] for i in keep]
    widths, z = widths[keep], z[keep]

    sizes = np.fromiter((len(line) for line in lines), np.int64, len(lines))
    points = np.concatenate(lines)
    total = len(points)
    starts = np.zeros(len(lines), np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    ends = starts + sizes - 1

    miter, scale = _miters(points, starts, ends, miter_limit)
    half = np.repeat(widths / 2.0, sizes)
    offset = miter * (half * scale)[:, None]
    heights = np.repeat(z, sizes)
    vertices = np.empty((total * 2, 3), np.float32)
    vertices[0::2, :2] = points + offset  # left
    vertices[1::2, :2] = points - offset  # right
    vertices[0::2, 2] = heights
    vertices[1::2, 2] = heights

    segment_of = np.ones(total, bool)
    segment_of[ends] = False
    first = np.flatnonzero(segment_of)  # point index at each segment's start
    quads = np.stack((2 * first + 1, 2 * first + 3, 2 * first + 2, 2 * first), axis=1)
    face_count = len(first)
    return MeshArrays(
        vertices,
        np.arange(0, 4 * face_count, 4, dtype=np.int32),
        np.full(face_count, 4, np.int32),
        quads.astype(np.int32).ravel(),
    )


def _miters(
    points: np.ndarray, starts: np.ndarray, ends: np.ndarray, miter_limit: float
) -> tuple[np.ndarray, np.ndarray]:
    # Unit mitre direction (left of travel) and its length factor, per point of the packed lines.
    total = len(points)
    closed = np.all(points[starts] == points[ends], axis=1)
    # Segment k joins point k to k + 1; the one after each line's last point is not a segment.
    delta = np.diff(points, axis=0)
    length = np.hypot(delta[:, 0], delta[:, 1])
    length[length == 0] = 1.0  # only at line boundaries, whose segments are never used
    direction = delta / length[:, None]
    normal = np.stack((-direction[:, 1], direction[:, 0]), axis=1)  # left of travel

    # Each point's incoming and outgoing segment; ends of open lines have only one.
    index = np.arange(total)
    incoming = index - 1
    outgoing = np.minimum(index, total - 2)
    incoming[starts[closed]] = ends[closed] - 1
    outgoing[ends[closed]] = starts[closed]
    has_in = np.ones(total, bool)
    has_out = np.ones(total, bool)
    has_in[starts[~closed]] = False
    has_out[ends[~closed]] = False
    incoming[~has_in] = outgoing[~has_in]
    outgoing[~has_out] = incoming[~has_out]

    n_in, n_out = normal[incoming], normal[outgoing]
    summed = n_in + n_out
    summed_len = np.hypot(summed[:, 0], summed[:, 1])
    reversal = summed_len < 1e-9
    # A full reversal has no mitre direction; push the tip forward along the incoming segment.
    safe_len = np.where(reversal, 1.0, summed_len)[:, None]
    miter = np.where(reversal[:, None], direction[incoming], summed / safe_len)
    cos_half = np.einsum("ij,ij->i", miter, n_out)
    with np.errstate(divide="ignore"):
        scale = np.where(cos_half > 1e-12, 1.0 / cos_half, np.inf)
    return miter, np.minimum(scale, miter_limit)


def road_meshes(roads: Sequence[RoadLine], *, miter_limit: float = 2.0) -> dict[str, MeshArrays]:
    """One ribbon mesh per group of :data:`ROAD_GROUPS` that has roads (:func:`ribbon_arrays`)."""
    by_group: dict[str, list[RoadLine]] = {}
    for road in roads:
        by_group.setdefault(road.group, []).append(road)
    meshes = {}
    for group in (*ROAD_GROUPS, *sorted(set(by_group) - set(ROAD_GROUPS))):
        lines = by_group.get(group)
        if not lines:
            continue
        mesh = ribbon_arrays(
            [r.xy for r in lines],
            [r.width for r in lines],
            [r.z for r in lines],
            miter_limit=miter_limit,
        )
        if mesh.face_count:
            meshes[group] = mesh
    return meshes


def road_mesh(roads: Sequence[RoadLine], *, miter_limit: float = 2.0) -> MeshArrays:
    """All roads in one mesh; ``face_materials`` is the group's index in :data:`ROAD_GROUPS`."""
    parts = []
    for group, mesh in road_meshes(roads, miter_limit=miter_limit).items():
        slot = ROAD_GROUPS.index(group) if group in ROAD_GROUPS else len(ROAD_GROUPS)
        parts.append(
            MeshArrays(
                mesh.vertices,
                mesh.loop_starts,
                mesh.loop_totals,
                mesh.loop_vertices,
                np.full(mesh.face_count, slot, np.int16),
            )
        )
    return MeshArrays.concat(parts)
