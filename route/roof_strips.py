"""A large roof cut into vertical strips, so each is triangulated in bounded memory (numpy).

Blender's constrained triangulation holds about 4 KiB a point at its peak: a roof of 100,000
points took 390 MB in one call no budget stop can interrupt. Cut into strips of at most
:data:`STRIP_POINTS` points, each strip costs a fixed few tens of MB, one after the other.

Each ring is clipped to a strip ``xa <= x <= xb`` edge by edge (Sutherland-Hodgman against
the two lines): an edge keeps the piece inside the strip, and consecutive pieces are joined in
ring order, so where the ring runs outside the strip the join is a segment along the strip's
edge. The clipped rings have, inside the strip, exactly the even-odd inside of the original
ones (joins that run back and forth along an edge cancel), which is what the triangulation
fills. The strips' triangles meet along the cut lines.
"""

import numpy as np

#: Points of the rings (vertices, not counting the cut points) per strip at most.
STRIP_POINTS = 4096
#: What Blender's triangulation holds at its peak per point: measured 3.3-3.8 KiB (bpy
#: 5.0.1, 24 k to 100 k points), its own structures and the Python lists it returns.
TRIANGULATION_BYTES_PER_POINT = 4096
#: Strip registrations allowed per edge on average before the strips are made wider.
_REGISTRATIONS_PER_EDGE = 4


def split_into_strips(rings, max_points: int = STRIP_POINTS) -> list[list[np.ndarray]]:
    """*rings* (each (n, 2), open) as strips: per strip, its clipped rings (each (m, 2), m >= 3).

    Rings with at most *max_points* points in all come back as one strip, unchanged.
    """
    rings = [np.asarray(r, np.float64).reshape(-1, 2) for r in rings if len(r) >= 3]
    total = sum(len(r) for r in rings)
    if total <= max_points:
        return [rings] if rings else []
    sizes = np.fromiter((len(r) for r in rings), np.int64, len(rings))
    start = np.concatenate(rings)
    ring_of = np.repeat(np.arange(len(rings)), sizes)
    first_of = np.cumsum(sizes) - sizes
    nxt = np.arange(total) + 1
    nxt[first_of + sizes - 1] = first_of
    end = start[nxt]
    low = np.minimum(start[:, 0], end[:, 0])
    high = np.maximum(start[:, 0], end[:, 0])
    # Cut lines at every max_points-th vertex by x, so each strip holds about max_points.
    step = max_points
    while True:
        cuts = np.unique(np.sort(start[:, 0])[step::step])
        first = np.searchsorted(cuts, low, side="left")  # strip k lies between cuts k-1 and k
        last = np.searchsorted(cuts, high, side="right")
        spans = last - first + 1
        if spans.sum() <= _REGISTRATIONS_PER_EDGE * total or len(cuts) == 0:
            break
        step *= 2  # edges crossing many strips (long horizontal ones): wider strips
    owner = np.repeat(np.arange(total), spans)
    strip = first[owner] + (np.arange(len(owner)) - np.repeat(np.cumsum(spans) - spans, spans))
    order = np.lexsort((owner, strip))  # by strip, then in ring order
    owner, strip = owner[order], strip[order]
    bounds = np.searchsorted(strip, np.arange(len(cuts) + 2))
    lines = np.concatenate(([-np.inf], cuts, [np.inf]))
    found = []
    for k in range(len(cuts) + 1):
        edges = owner[bounds[k] : bounds[k + 1]]
        if len(edges):
            clipped = _clip(start[edges], end[edges], ring_of[edges], lines[k], lines[k + 1])
            if clipped:
                found.append(clipped)
    return found


def _clip(p, q, ring, xa: float, xb: float) -> list[np.ndarray]:
    """The pieces of edges p->q inside ``xa <= x <= xb``, joined into rings (ring ids *ring*)."""
    dx = q[:, 0] - p[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        ta = np.where(dx != 0, (xa - p[:, 0]) / dx, -np.inf)
        tb = np.where(dx != 0, (xb - p[:, 0]) / dx, np.inf)
    t0 = np.clip(np.minimum(ta, tb), 0.0, 1.0)
    t1 = np.clip(np.maximum(ta, tb), 0.0, 1.0)
    d = q - p
    piece = np.empty((2 * len(p), 2))
    piece[0::2] = p + t0[:, None] * d
    piece[1::2] = p + t1[:, None] * d
    piece[:, 0] = np.clip(piece[:, 0], xa, xb)  # cut points exactly on the lines
    owner = np.repeat(ring, 2)
    result = []
    breaks = np.flatnonzero(np.diff(owner)) + 1
    for joined in np.split(piece, breaks):
        # Repeated points (an edge's end is the next one's start) go, the ring being cyclic.
        keep = np.any(joined != np.roll(joined, 1, axis=0), axis=1)
        points = joined[keep] if keep.any() else joined[:1]
        if len(points) >= 3 and np.ptp(points[:, 0]) > 0:  # not all on one cut line
            result.append(points)
    return result
