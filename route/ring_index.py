"""Even-odd point-in-ring tests in bounded memory and sub-quadratic time (plain numpy).

Testing n points against a ring of m edges the plain way compares every point with every edge:
an (n, m) array of each temporary, 1.1 GB apiece for a 12,000-node courtyard in a
12,000-node building. Here the ring's edges are bucketed into horizontal bands (about eight
edge starts a band), and a point meets only the edges of its own band: for a ring that a
horizontal line crosses a few times, that is a few edges a point, whatever m. The pairs
tested are made in chunks of at most :data:`PAIRS_PER_CHUNK`, so the temporaries stay below
a fixed few MB even for a ring a line crosses thousands of times (a comb), where the work is
the crossings themselves.

The rule is the classic ray cast to +x with half-open edges (an edge counts when
``min(y0, y1) <= y < max(y0, y1)`` and it passes right of the point), so results equal the
direct test's; a point exactly on an edge may land either way.
"""

import numpy as np

#: Point-edge pairs tested at once: bounds every temporary to a few MB (8 bytes a pair each).
PAIRS_PER_CHUNK = 1 << 18
#: Edge starts per band aimed at; fewer bands are used if long edges would fill too many.
_EDGES_PER_BAND = 8
#: Band registrations allowed per edge on average before the bands are made coarser.
_REGISTRATIONS_PER_EDGE = 8


class RingIndex:
    """The edges of one ring, or of several (even-odd over all of them), ready for queries.

    *rings* is one (m, 2) array or a list of them; each ring may or may not repeat its first
    point at its end.
    """

    def __init__(self, rings):
        if isinstance(rings, np.ndarray):
            rings = [rings]
        starts, ends = [], []
        for given in rings:
            ring = np.asarray(given, np.float64).reshape(-1, 2)
            if len(ring) < 2:
                continue
            starts.append(ring)
            ends.append(np.roll(ring, -1, axis=0))
        if starts:
            a, b = np.concatenate(starts), np.concatenate(ends)
        else:
            a = b = np.zeros((0, 2))
        # Horizontal edges never count under the half-open rule: leave them out.
        crossing = a[:, 1] != b[:, 1]
        a, b = a[crossing], b[crossing]
        self.x0, self.y0 = a[:, 0].copy(), a[:, 1].copy()
        self.x1, self.y1 = b[:, 0].copy(), b[:, 1].copy()
        low, high = np.minimum(self.y0, self.y1), np.maximum(self.y0, self.y1)
        # The box of the crossable edges: no point outside it has a crossing to its right.
        self.box = None
        if len(a):
            xs = np.concatenate((a[:, 0], b[:, 0]))
            self.box = (float(xs.min()), float(low.min()), float(xs.max()), float(high.max()))
        self._bounds, self._band_starts, self._band_edges = _bands(low, high)

    @property
    def edge_count(self) -> int:
        """Edges that can be crossed (horizontal ones are left out)."""
        return len(self.x0)

    def contains(self, points) -> np.ndarray:
        """Whether each of *points* (n, 2) lies inside (even-odd); bool (n,)."""
        points = np.asarray(points, np.float64).reshape(-1, 2)
        inside = np.zeros(len(points), bool)
        if self.box is None or not len(points):
            return inside
        min_x, min_y, max_x, max_y = self.box
        px, py = points[:, 0], points[:, 1]
        candidates = np.flatnonzero((px >= min_x) & (px <= max_x) & (py >= min_y) & (py < max_y))
        if not len(candidates):
            return inside
        band = np.searchsorted(self._bounds, py[candidates], side="right") - 1
        first = self._band_starts[band]
        counts = self._band_starts[band + 1] - first
        # Chunks of points whose pairs fit PAIRS_PER_CHUNK (a point with more gets one alone).
        reach = np.cumsum(counts)
        begin = 0
        while begin < len(candidates):
            done = reach[begin - 1] if begin else 0
            end = int(np.searchsorted(reach, done + PAIRS_PER_CHUNK, side="right"))
            end = max(end, begin + 1)
            chosen = candidates[begin:end]
            inside[chosen] = self._odd_crossings(
                px[chosen], py[chosen], first[begin:end], counts[begin:end]
            )
            begin = end
        return inside

    def _odd_crossings(self, px, py, first, counts) -> np.ndarray:
        total = int(counts.sum())
        if total == 0:
            return np.zeros(len(px), bool)
        owner = np.repeat(np.arange(len(px)), counts)
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        edge = self._band_edges[first[owner] + offsets]
        del offsets
        x0, y0, x1, y1 = self.x0[edge], self.y0[edge], self.x1[edge], self.y1[edge]
        qy = py[owner]
        crosses = (y0 > qy) != (y1 > qy)
        x_at = x0 + (qy - y0) * (x1 - x0) / (y1 - y0)  # y1 != y0: horizontal edges are out
        hits = crosses & (px[owner] < x_at)
        return np.bincount(owner, weights=hits, minlength=len(px)).astype(np.int64) % 2 == 1


def points_in_polygon(points, polygon) -> np.ndarray:
    """Even-odd test of each of *points* (n, 2) against the ring *polygon* (m, 2); bool (n,).

    The ring may or may not repeat its first point at the end. Points exactly on an edge may
    land either way. Memory stays bounded and time near-linear (see the module docstring).
    """
    return RingIndex(polygon).contains(points)


def _bands(low: np.ndarray, high: np.ndarray):
    """Band boundaries (B + 1,), and per band the edges whose y-range meets it (CSR)."""
    if not len(low):
        return np.zeros(1), np.zeros(2, np.int64), np.zeros(0, np.int64)
    edges = len(low)
    cuts = np.unique(np.sort(low)[::_EDGES_PER_BAND])
    while True:
        first = np.searchsorted(cuts, low, side="right") - 1
        last = np.searchsorted(cuts, high, side="right") - 1
        spans = last - first + 1
        total = int(spans.sum())
        if total <= _REGISTRATIONS_PER_EDGE * edges or len(cuts) == 1:
            break
        # Long edges crossing many bands (a comb): coarser bands, fewer registrations each.
        cuts = cuts[::2]
    owner = np.repeat(np.arange(edges), spans)
    band = first[owner] + (np.arange(total) - np.repeat(np.cumsum(spans) - spans, spans))
    order = np.argsort(band, kind="stable")
    band_starts = np.searchsorted(band[order], np.arange(len(cuts) + 1))
    return cuts, band_starts.astype(np.int64), owner[order]
