"""The drivable road network of an OSM file as a directed graph in projected metres.

Plain Python and numpy, no bpy.

Which ways are roads for a car:

- ``highway`` is one of :data:`DRIVABLE_HIGHWAYS`: motorway, trunk, primary, secondary,
  tertiary, their ``*_link`` ramps, unclassified, residential, living_street, service and road.
  Not footway, path, cycleway, pedestrian, steps, bridleway, corridor, bus_guideway, busway,
  raceway, construction, proposed or platform.
- ``highway=track`` (farm and forest tracks) only when a car tag says so explicitly
  (``motorcar``, ``motor_vehicle`` or ``vehicle`` = yes/permissive/designated/destination):
  most tracks are gravel lanes closed to through traffic, and routers (OSRM's car profile)
  skip them too.
- Access for cars is read from the most specific tag present, in the order ``motorcar``,
  ``motor_vehicle``, ``vehicle``, ``access``; the way is dropped if that value is one of
  :data:`NO_ACCESS` (no, private, agricultural, forestry, delivery, ...). ``destination``,
  ``customers`` and ``permissive`` are allowed: you may drive there to arrive.
- ``area=yes`` ways (pedestrian squares, parking-lot outlines) are dropped: their outline is
  not a road one drives along.

Direction (``oneway:motorcar``, ``oneway:motor_vehicle``, ``oneway:vehicle`` before ``oneway``):
``yes``/``true``/``1`` forward only, ``-1``/``reverse`` backward only, ``no``/``false``/``0``
both ways. Without a oneway tag, ``junction=roundabout``/``circular`` and ``highway=motorway``
are forward only; anything else is two-way, and so is an unknown value. ``reversible`` and
``alternating`` change direction by time of day, so those ways are left out.

Every pair of consecutive nodes of a drivable way is one *segment* (node positions come
from the caller's projected ``xy``). Nodes missing from the file split the way at the gap.
A segment's length is its straight length in metres, and a directed edge exists for each
direction it may be driven. Graph nodes are only the OSM nodes used by drivable ways,
numbered 0..V-1; ``node_rows`` maps them back to rows of ``osm.nodes``.
"""

from functools import cached_property
from itertools import chain

import numpy as np

#: highway=* values a car may drive on (subject to access tags).
DRIVABLE_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
    }
)
#: highway=* values drivable only when a car access tag allows it explicitly.
DRIVABLE_IF_ALLOWED = frozenset({"track"})
#: Access values that close a way to ordinary cars.
NO_ACCESS = frozenset(
    {"no", "private", "agricultural", "forestry", "delivery", "emergency", "military", "psv", "bus"}
)
#: Access values that open a track to cars when given on a car tag.
EXPLICIT_ACCESS = frozenset({"yes", "permissive", "designated", "destination"})
#: Access tags from the most to the least specific for a car.
ACCESS_KEYS = ("motorcar", "motor_vehicle", "vehicle", "access")
ONEWAY_KEYS = ("oneway:motorcar", "oneway:motor_vehicle", "oneway:vehicle", "oneway")
_FORWARD = frozenset({"yes", "true", "1"})
_BACKWARD = frozenset({"-1", "reverse"})
_TWO_WAY = frozenset({"no", "false", "0"})
_TIMED = frozenset({"reversible", "alternating"})

#: Cell size of the segment grid used to find the roads near a point (metres).
GRID_CELL_M = 64.0
#: Grid pieces (cells crossed) allowed per segment on average before the cells grow, and
#: in all at least (a few MB, however few the segments).
GRID_PIECES_PER_SEGMENT = 16
GRID_PIECES_MIN = 1 << 16


def car_access(tags) -> "tuple[bool, bool] | None":
    """Which directions a car may drive along a way with these tags: ``(forward, backward)``.

    ``None`` if the way is not a drivable road at all (see the module docstring for the rules).
    """
    if not _open_to_cars(tags):
        return None
    oneway = next((tags[k].strip() for k in ONEWAY_KEYS if k in tags), None)
    if oneway in _TIMED:
        return None
    if oneway in _FORWARD:
        return True, False
    if oneway in _BACKWARD:
        return False, True
    if oneway not in _TWO_WAY and (
        tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway"
    ):
        return True, False
    return True, True


def _first_value(tags, keys) -> "str | None":
    """The value of the first of *keys* present; of a "a;b" list, its first item."""
    for key in keys:
        value = tags.get(key)
        if value is not None:
            return value.split(";")[0].strip()
    return None


def _open_to_cars(tags) -> bool:
    """Whether the way is a road class cars use and its access tags let them in."""
    highway = tags.get("highway")
    if highway is None or tags.get("area") == "yes":
        return False
    if highway in DRIVABLE_IF_ALLOWED:
        # Only a car tag (not plain access=*) opens a track, and only with a clear yes.
        return _first_value(tags, ACCESS_KEYS[:3]) in EXPLICIT_ACCESS
    return highway in DRIVABLE_HIGHWAYS and _first_value(tags, ACCESS_KEYS) not in NO_ACCESS


class RoadGraph:
    """Drivable segments and a CSR adjacency of directed edges weighted by length in metres.

    Attributes (numpy arrays): ``node_rows`` (V,) rows of ``osm.nodes``; ``xy`` (V, 2)
    positions; per segment (S,): ``seg_a``/``seg_b`` end nodes, ``seg_length``,
    ``seg_forward`` (a -> b allowed), ``seg_backward`` (b -> a allowed), ``seg_way`` (OSM way
    id); per directed edge, sorted by source: ``indptr`` (V + 1,), ``indices`` (E,) target
    node, ``weights`` (E,) length, ``edge_seg`` (E,) segment.
    """

    def __init__(
        self,
        node_rows: np.ndarray,
        xy: np.ndarray,
        seg_a: np.ndarray,
        seg_b: np.ndarray,
        seg_forward: np.ndarray,
        seg_backward: np.ndarray,
        seg_way: np.ndarray,
    ):
        self.node_rows = np.asarray(node_rows, dtype=np.int64)
        self.xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        self.seg_a = np.asarray(seg_a, dtype=np.int64)
        self.seg_b = np.asarray(seg_b, dtype=np.int64)
        self.seg_forward = np.asarray(seg_forward, dtype=bool)
        self.seg_backward = np.asarray(seg_backward, dtype=bool)
        self.seg_way = np.asarray(seg_way, dtype=np.int64)
        self.seg_length = np.hypot(*(self.xy[self.seg_b] - self.xy[self.seg_a]).T)
        # Directed edges: a -> b for forward segments, b -> a for backward ones.
        fwd = np.flatnonzero(self.seg_forward)
        bwd = np.flatnonzero(self.seg_backward)
        source = np.concatenate((self.seg_a[fwd], self.seg_b[bwd]))
        target = np.concatenate((self.seg_b[fwd], self.seg_a[bwd]))
        edge_seg = np.concatenate((fwd, bwd))
        order = np.argsort(source, kind="stable")
        self.indices = target[order]
        self.edge_seg = edge_seg[order]
        self.weights = self.seg_length[self.edge_seg]
        counts = np.bincount(source, minlength=len(self.xy))
        self.indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)

    @classmethod
    def from_osm(cls, osm, xy: np.ndarray) -> "RoadGraph":
        """Build the graph of *osm*'s drivable ways; ``xy[i]`` is the projected ``osm.nodes`` row i.

        *xy* is an (N, 2) float array aligned with ``osm.nodes``.
        """
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if len(xy) != len(osm.nodes):
            raise ValueError(f"xy has {len(xy)} rows but the OSM data has {len(osm.nodes)} nodes")
        ways = []
        flags = []
        for way in osm.ways.values():
            if len(way.refs) < 2 or "highway" not in way.tags:
                continue
            direction = car_access(way.tags)
            if direction is not None:
                ways.append(way)
                flags.append(direction)
        if not ways:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, np.zeros((0, 2)), empty, empty, empty, empty, empty)
        lengths = np.fromiter((len(w.refs) for w in ways), dtype=np.int64, count=len(ways))
        refs = np.fromiter(
            chain.from_iterable(w.refs for w in ways), dtype=np.int64, count=int(lengths.sum())
        )
        rows = osm.nodes.index_of(refs)
        owner = np.repeat(np.arange(len(ways)), lengths)
        # A segment joins two consecutive refs of one way that both exist and differ; a missing
        # node therefore drops the segments on both sides of it and splits the way there.
        a_rows, b_rows = rows[:-1], rows[1:]
        keep = (owner[:-1] == owner[1:]) & (a_rows >= 0) & (b_rows >= 0) & (a_rows != b_rows)
        a_rows, b_rows, owner = a_rows[keep], b_rows[keep], owner[:-1][keep]
        node_rows, inverse = np.unique(np.concatenate((a_rows, b_rows)), return_inverse=True)
        flags_arr = np.array(flags, dtype=bool).reshape(-1, 2)
        way_ids = np.fromiter((w.id for w in ways), dtype=np.int64, count=len(ways))
        return cls(
            node_rows,
            xy[node_rows],
            inverse[: len(a_rows)],
            inverse[len(a_rows) :],
            flags_arr[owner, 0],
            flags_arr[owner, 1],
            way_ids[owner],
        )

    @property
    def node_count(self) -> int:
        """How many graph nodes (V)."""
        return len(self.xy)

    @property
    def segment_count(self) -> int:
        """How many drivable segments (S)."""
        return len(self.seg_a)

    @property
    def edge_count(self) -> int:
        """How many directed edges (E): one per segment and direction it may be driven."""
        return len(self.indices)

    @property
    def total_length_m(self) -> float:
        """The summed length of every segment, in metres."""
        return float(self.seg_length.sum())

    def neighbours(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """(target nodes, edge lengths) of the edges leaving *node*."""
        start, end = self.indptr[node], self.indptr[node + 1]
        return self.indices[start:end], self.weights[start:end]

    @cached_property
    def adjacency_lists(self) -> tuple[list[int], list[int], list[float], list[float], list[float]]:
        """``indptr``, ``indices``, ``weights``, x and y as Python lists, for tight search loops."""
        # Indexing numpy arrays one element at a time is ~10x slower than lists in pure Python.
        return (
            self.indptr.tolist(),
            self.indices.tolist(),
            self.weights.tolist(),
            self.xy[:, 0].tolist(),
            self.xy[:, 1].tolist(),
        )

    @cached_property
    def _grid(self) -> tuple[float, float, float, int, np.ndarray, np.ndarray, np.ndarray]:
        """Segments bucketed by grid cell: origin, cell size, cells per column, keys, starts, ids.

        A segment is cut into pieces no longer than a cell and each piece registers the (at
        most 2 x 2) cells of its box, so a long diagonal segment fills the cells it passes
        through, not every cell of its box (one 300-byte file's 400 km segment made 2 GB of
        those). Cells grow past :data:`GRID_CELL_M` only when the pieces would number more
        than :data:`GRID_PIECES_PER_SEGMENT` a segment, and :data:`GRID_PIECES_MIN` in all
        (roads spread over a continent).
        """
        a, b = self.xy[self.seg_a], self.xy[self.seg_b]
        length = np.hypot(*(b - a).T)
        count = len(a)
        budget = max(GRID_PIECES_PER_SEGMENT * count, GRID_PIECES_MIN)
        cell = GRID_CELL_M
        if np.ceil(length / cell).sum() + count > budget:
            cell = max(cell, float(length.sum()) / (budget - count))
        pieces = np.maximum(np.ceil(length / cell).astype(np.int64), 1)
        seg = np.repeat(np.arange(count), pieces)
        step = np.arange(len(seg)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        share = pieces[seg].astype(np.float64)
        start = a[seg] + (b - a)[seg] * (step / share)[:, None]
        end = a[seg] + (b - a)[seg] * ((step + 1) / share)[:, None]
        del step, share
        origin = self.xy.min(axis=0)
        c0 = np.floor((np.minimum(start, end) - origin) / cell).astype(np.int64)
        c1 = np.floor((np.maximum(start, end) - origin) / cell).astype(np.int64)
        del start, end
        ny = int(c1[:, 1].max()) + 1
        span = c1 - c0 + 1
        counts = span[:, 0] * span[:, 1]
        owner = np.repeat(np.arange(len(seg)), counts)
        # k-th cell of a piece's cell rectangle, walked column-major within the rectangle.
        k = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
        span_y = span[owner, 1]
        keys = (c0[owner, 0] + k // span_y) * ny + c0[owner, 1] + k % span_y
        seg = seg[owner]
        del owner, k, span_y
        order = np.lexsort((seg, keys))
        keys, seg = keys[order], seg[order]
        # A segment registered twice in a cell (its pieces meet there) is kept once.
        first = np.ones(len(keys), bool)
        first[1:] = (keys[1:] != keys[:-1]) | (seg[1:] != seg[:-1])
        keys, seg = keys[first], seg[first]
        cell_keys, starts = np.unique(keys, return_index=True)
        starts = np.append(starts, len(keys))
        return float(origin[0]), float(origin[1]), cell, ny, cell_keys, starts, seg

    def segments_near(self, x: float, y: float, radius: float) -> np.ndarray:
        """Ids of the segments that may come within *radius* metres of (x, y) (and a few more)."""
        if self.segment_count == 0:
            return np.zeros(0, dtype=np.int64)
        ox, oy, cell, ny, cell_keys, starts, seg = self._grid
        ix0 = int(np.floor((x - radius - ox) / cell))
        ix1 = int(np.floor((x + radius - ox) / cell))
        iy0 = max(0, int(np.floor((y - radius - oy) / cell)))
        iy1 = min(ny - 1, int(np.floor((y + radius - oy) / cell)))
        ix0 = max(ix0, 0)
        if ix1 < ix0 or iy1 < iy0:
            return np.zeros(0, dtype=np.int64)
        ix, iy = np.meshgrid(np.arange(ix0, ix1 + 1), np.arange(iy0, iy1 + 1), indexing="ij")
        wanted = (ix * ny + iy).ravel()
        pos = np.searchsorted(cell_keys, wanted)
        found = pos < len(cell_keys)
        pos, wanted = pos[found], wanted[found]
        hit = pos[cell_keys[pos] == wanted]
        if len(hit) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate([seg[starts[p] : starts[p + 1]] for p in hit]))

    def project(self, x: float, y: float, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The nearest point of each of *segments* to (x, y): ``(t, distance)`` arrays.

        ``t`` in [0, 1] runs from ``seg_a`` to ``seg_b``; the point is ``a + t (b - a)``.
        """
        a = self.xy[self.seg_a[segments]]
        d = self.xy[self.seg_b[segments]] - a
        length2 = np.einsum("ij,ij->i", d, d)
        rel = np.array((x, y)) - a
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.einsum("ij,ij->i", rel, d) / length2
        t = np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)
        distance = np.hypot(*(rel - t[:, None] * d).T)
        return t, distance

    def nearest_distance(self, x: float, y: float) -> float:
        """Distance from (x, y) to the nearest drivable segment, inf without any (all segments)."""
        if self.segment_count == 0:
            return float("inf")
        _, distance = self.project(x, y, np.arange(self.segment_count))
        return float(distance.min())
