"""About how many times a set of rings cross each other or themselves, from a sample (numpy).

A triangulation that keeps every ring edge adds a point at every crossing: valid building
rings have none, but a ring whose nodes come in the wrong order crosses itself about n^2/10
times (a 3,000-node one: 1.5 million triangles, 4.4 GB and 100 s). Counting crossings exactly
costs what the triangulation does; a sample answers the question that matters, "far more
crossings than points?", in time linear in the points: *m* edges drawn at random (a fixed
seed, so the same rings give the same answer) are tested pair by pair, and the crossings
found scaled by the share of pairs tested. With ``m = 8 sqrt(n)``, a ring set with n / 8
crossings shows 8 of them on average, so one with as many crossings as points is never
missed.
"""

import numpy as np

#: Sampled edges per square root of the edge count.
_SAMPLE_FACTOR = 8
#: Pairs of edges tested at once (bounds the temporaries to a few MB).
_PAIRS_PER_CHUNK = 1 << 16


def estimated_crossings(rings, *, seed: int = 0) -> float:
    """About how many proper crossings the edges of *rings* (each (n, 2), open) make.

    Edges meeting at a shared end, touching or lying on one line are not counted: only
    crossings through both edges' interiors, the ones that add points.
    """
    rings = [np.asarray(r, np.float64).reshape(-1, 2) for r in rings if len(r) >= 2]
    if not rings:
        return 0.0
    starts = np.concatenate(rings)
    ends = np.concatenate([np.roll(r, -1, axis=0) for r in rings])
    edges = len(starts)
    sample = min(edges, int(_SAMPLE_FACTOR * np.sqrt(edges)) + 1)
    chosen = np.sort(np.random.default_rng(seed).choice(edges, sample, replace=False))
    a, b = starts[chosen], ends[chosen]
    # Blocks of rows against every column, each pair once (column after row).
    rows = max(1, _PAIRS_PER_CHUNK // sample)
    columns = np.arange(sample)
    found = 0
    for top in range(0, sample, rows):
        i = np.repeat(np.arange(top, min(top + rows, sample)), sample)
        j = np.tile(columns, len(i) // sample)
        later = j > i
        i, j = i[later], j[later]
        found += int(_proper_crossings(a[i], b[i], a[j], b[j]).sum())
    tested = sample * (sample - 1) / 2
    total = edges * (edges - 1) / 2
    return found * total / tested if tested else 0.0


def _proper_crossings(p, q, r, s) -> np.ndarray:
    """Whether segment p-q crosses r-s through both interiors (arrays of (k, 2))."""
    d1 = _orientation(r, s, p)
    d2 = _orientation(r, s, q)
    d3 = _orientation(p, q, r)
    d4 = _orientation(p, q, s)
    return (d1 * d2 < 0) & (d3 * d4 < 0)


def _orientation(a, b, c) -> np.ndarray:
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
