"""Roofs with courtyards as triangles (a Blender face has no holes), in near-linear time.

Blender's polygon filler (``tessellate_polygon``, scanfill) is quick on the usual courtyard
roof (0.2 ms) but takes time quadratic in the rings (5 s for 16,000 courtyards, 14 s for an
80,000-node comb-shaped outline) and filled only 25,190 of the 60,062 triangles of a roof
with 10,000 courtyards. Roofs that are not :func:`.building_geometry.is_large_roof`, where it
stays below about 10 ms, use it. Larger ones use Blender's constrained Delaunay triangulation
(``delaunay_2d_cdt``, about 1 s for either example above), strip by strip
(:mod:`.roof_strips`: it holds about 4 KiB a point at its peak, so a 100,000-point roof took
390 MB in one call; a strip of 4,096 points, tens of MB). It triangulates the rings' points
with every ring edge kept; which triangles are roof is then told by the even-odd rule, from
the triangles on the hull (outside) across triangle sides, where each ring edge crossed flips
inside and outside. Rings that touch or cross a few times are split where they meet by the
triangulation itself; rings that cross more often than they have points
(:mod:`.ring_crossings`) would cost it time and memory growing with the square of the points
(a 3,000-node ring in shuffled order: 100 s, 4.4 GB), and such a roof is left open and
counted instead.
"""

from collections import deque

import numpy as np
from mathutils import Vector
from mathutils.geometry import delaunay_2d_cdt, tessellate_polygon

from ..memory.units import format_bytes
from .building_geometry import is_large_roof, triangles_to_mesh
from .mesh_arrays import MeshArrays
from .ring_crossings import estimated_crossings
from .roof_strips import TRIANGULATION_BYTES_PER_POINT, split_into_strips

#: Points closer than this (metres) are merged by the triangulation.
MERGE_DISTANCE_M = 1e-5
#: delaunay_2d_cdt output type: every triangle of the convex hull, the ring edges kept.
_HULL_TRIANGLES = 0


def holed_roof_arrays(holed_roofs, *, reserve=None) -> MeshArrays:
    """One mesh of triangles for every roof in *holed_roofs* (``HoledRoof(rings, z)``)."""
    return holed_roofs_mesh(holed_roofs, reserve=reserve)[0]


def holed_roofs_mesh(holed_roofs, *, reserve=None) -> tuple[MeshArrays, int]:
    """The triangles of every roof in *holed_roofs*, and how many large roofs were left open.

    A large roof whose rings cross each other more often than it has points (nodes in the
    wrong order: :mod:`.ring_crossings`) is left without a roof rather than triangulated at
    a cost that grows with the square of its points; its walls stay. *reserve* (a stage's
    :meth:`~..memory.stage_boundary.Stage.reserve`) is asked first for the memory of each
    large roof's triangulation, one C call no budget stop can interrupt.
    """
    parts = []
    left_open = 0
    for roof in holed_roofs:
        rings = [np.asarray(r, np.float64).reshape(-1, 2) for r in roof.rings]
        points = sum(map(len, rings))
        if not is_large_roof(points, len(rings)):
            triangles = tessellate_polygon([[(x, y, 0.0) for x, y in r.tolist()] for r in rings])
            if triangles:
                parts.append(triangles_to_mesh(rings, roof.z, np.asarray(triangles, np.int64)))
            continue
        crossings = estimated_crossings(rings)
        if crossings > points:
            left_open += 1
            continue
        # Strip by strip: each triangulation holds a bounded few tens of MB at its peak.
        for strip in split_into_strips(rings):
            size = sum(len(r) for r in strip)
            if reserve is not None:
                reserve(
                    TRIANGULATION_BYTES_PER_POINT * int(size * (1 + 2 * crossings / points)),
                    f"triangulating a strip of {size:,} points of a roof of {points:,}",
                    f"{format_bytes(TRIANGULATION_BYTES_PER_POINT)} a point",
                )
            found, triangles = triangulate_rings(strip)
            if len(triangles):
                parts.append(triangles_to_mesh([found], roof.z, triangles))
    return MeshArrays.concat(parts), left_open


def triangulate_rings(rings) -> tuple[np.ndarray, np.ndarray]:
    """Triangles covering the area inside an odd number of *rings* (each (n, 2), open).

    Returns ``(points (P, 2), triangles (T, 3))``, the triangles indexing *points* (the rings'
    points, plus any where rings cross). Orientation is left to the caller.
    """
    rings = [np.asarray(r, np.float64).reshape(-1, 2) for r in rings if len(r) >= 3]
    if not rings:
        return np.zeros((0, 2)), np.zeros((0, 3), np.int64)
    sizes = np.fromiter((len(r) for r in rings), np.int64, len(rings))
    points = np.concatenate(rings)
    starts = np.cumsum(sizes) - sizes
    here = np.arange(len(points))
    nxt = here + 1
    nxt[starts + sizes - 1] = starts
    # Relative to the first point: metres from the projection's centre lose precision far out.
    origin = points[0]
    local = points - origin
    out = delaunay_2d_cdt(
        [Vector(p) for p in local.tolist()],
        np.column_stack((here, nxt)).tolist(),
        [],
        _HULL_TRIANGLES,
        MERGE_DISTANCE_M,
        True,
    )
    out_points = np.array([v.to_tuple() for v in out[0]], np.float64).reshape(-1, 2) + origin
    triangles = np.array(out[2], np.int64).reshape(-1, 3)
    # An output edge flips inside/outside once per ring edge it carries (shared edges cancel).
    carried = np.fromiter((len(e) for e in out[4]), np.int64, len(out[4]))
    flip_sides = np.sort(np.array(out[1], np.int64).reshape(-1, 2), axis=1)[carried % 2 == 1]
    inside = _odd_triangles(triangles, flip_sides)
    return out_points, triangles[inside]


def _odd_triangles(triangles: np.ndarray, flip_sides: np.ndarray) -> np.ndarray:
    """Which triangles lie inside an odd number of rings; *flip_sides* (F, 2) low, high ids.

    Triangles joined by a side that flips nothing form regions (union-find in numpy); the
    regions' parities then follow from the hull, region by region across flipping sides.
    """
    count = len(triangles)
    if not count:
        return np.zeros(0, bool)
    vertices = int(triangles.max()) + 1
    # Each triangle side as one key; the two triangles sharing a side pair up.
    sides = np.sort(triangles[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    keys = sides[:, 0] * vertices + sides[:, 1]
    owner = np.repeat(np.arange(count), 3)
    order = np.argsort(keys, kind="stable")
    keys, owner = keys[order], owner[order]
    flipping = np.isin(keys, flip_sides[:, 0] * vertices + flip_sides[:, 1])
    shared = np.flatnonzero(keys[1:] == keys[:-1])
    paired = np.zeros(len(keys), bool)
    paired[shared] = paired[shared + 1] = True
    a, b, flip = owner[shared], owner[shared + 1], flipping[shared]
    region = _components(count, a[~flip], b[~flip])
    # Region graph: the flipping sides between regions, and the hull sides (outside is 0).
    hull = np.flatnonzero(~paired)
    seeds = dict(
        zip(region[owner[hull]].tolist(), flipping[hull].astype(int).tolist(), strict=True)
    )
    links: dict[int, list[int]] = {}
    ends = np.sort(np.column_stack((region[a[flip]], region[b[flip]])), axis=1)
    for x, y in set(map(tuple, ends.tolist())):
        links.setdefault(x, []).append(y)
        links.setdefault(y, []).append(x)
    parity = dict(seeds)
    queue = deque(seeds)
    while queue:
        here = queue.popleft()
        for there in links.get(here, ()):
            if there not in parity:
                parity[there] = parity[here] ^ 1
                queue.append(there)
    odd = np.fromiter(parity.keys(), np.int64)[np.fromiter(parity.values(), bool)]
    return np.isin(region, odd)


def _components(count: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of *count* nodes joined by edges a-b: each node's smallest member."""
    parent = np.arange(count)
    while True:
        pa, pb = parent[a], parent[b]
        low, high = np.minimum(pa, pb), np.maximum(pa, pb)
        apart = low != high
        if not apart.any():
            return parent
        np.minimum.at(parent, high[apart], low[apart])
        while True:  # point every node at its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
