"""Which outer ring of a multipolygon holds each inner ring (plain numpy).

An inner ring belongs to the smallest outer ring holding most of its points (inner rings may
touch their outer, so one point decides nothing). Done naively that is every inner against
every outer, each a test of every inner point against every outer edge: a relation of a
12,000-node outer and a 12,000-node inner made (n, m) temporaries of 1.1 GB each. Here:

- an inner meets only the outers whose bounding box meets its own, found through the inner
  boxes sorted by their west edge, in classes of similar width, so a relation of thousands of
  buildings does not compare each with each;
- at most :data:`MAX_VOTERS` points of an inner, spread evenly along it, vote;
- each outer's edges are indexed once (:class:`.ring_index.RingIndex`) and tested against the
  voters of all its candidate inners together.
"""

from collections.abc import Sequence

import numpy as np

from .ring_index import RingIndex

#: Points of an inner ring that vote on where it lies: evenly spread when it has more.
MAX_VOTERS = 1025


def assign_inner_rings(outers: Sequence[np.ndarray], inners: Sequence[np.ndarray]) -> np.ndarray:
    """For each of *inners*, the index in *outers* of the smallest ring holding most of it.

    Rings are (n, 2) arrays without the closing repeat of the first point. Returns an int64
    array, -1 for an inner ring inside no outer ring. Of outer rings of equal area, the first
    wins.
    """
    chosen = np.full(len(inners), -1, np.int64)
    if not len(inners) or not len(outers):
        return chosen
    voters = [_voters(np.asarray(ring, np.float64).reshape(-1, 2)) for ring in inners]
    inner_boxes = _boxes(voters)
    outer_boxes = _boxes([np.asarray(ring, np.float64).reshape(-1, 2) for ring in outers])
    areas = np.array([abs(_signed_area(np.asarray(ring, np.float64))) for ring in outers])
    best_area = np.full(len(inners), np.inf)
    finder = _BoxFinder(inner_boxes)
    for index, ring in enumerate(outers):
        found = finder.meeting(outer_boxes[index])
        found = found[areas[index] < best_area[found]]  # a smaller outer already holds them
        if not len(found):
            continue
        points = np.concatenate([voters[i] for i in found.tolist()])
        counts = np.fromiter((len(voters[i]) for i in found.tolist()), np.int64, len(found))
        owner = np.repeat(np.arange(len(found)), counts)
        inside = RingIndex(np.asarray(ring, np.float64)).contains(points)
        share = np.bincount(owner, weights=inside, minlength=len(found)) / np.maximum(counts, 1)
        won = found[share > 0.5]
        chosen[won] = index
        best_area[won] = areas[index]
    return chosen


def _voters(ring: np.ndarray) -> np.ndarray:
    if len(ring) <= MAX_VOTERS:
        return ring
    return ring[np.linspace(0, len(ring) - 1, MAX_VOTERS).astype(np.int64)]


def _boxes(rings: Sequence[np.ndarray]) -> np.ndarray:
    """(k, 4) min x, min y, max x, max y of each ring (NaN for an empty one)."""
    boxes = np.full((len(rings), 4), np.nan)
    for index, ring in enumerate(rings):
        if len(ring):
            boxes[index, :2] = ring.min(axis=0)
            boxes[index, 2:] = ring.max(axis=0)
    return boxes


def _signed_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


class _BoxFinder:
    """Boxes sorted by their west edge within classes of similar width: which meet a box."""

    def __init__(self, boxes: np.ndarray):
        self.boxes = boxes
        widths = boxes[:, 2] - boxes[:, 0]
        usable = np.isfinite(widths)
        # Width classes by binary exponent: inside a class the widest is at most twice the
        # narrowest, so a query's window of west edges holds few boxes that miss it.
        _, exponent = np.frexp(np.where(usable, widths, 0.0))
        self.classes = []
        for value in np.unique(exponent[usable]):
            members = np.flatnonzero(usable & (exponent == value))
            members = members[np.argsort(boxes[members, 0], kind="stable")]
            self.classes.append((members, boxes[members, 0], float(widths[members].max())))

    def meeting(self, box: np.ndarray) -> np.ndarray:
        """Indices (ascending) of the boxes that meet *box* (edges touching count)."""
        min_x, min_y, max_x, max_y = box
        if not np.isfinite(box).all():
            return np.zeros(0, np.int64)
        parts = []
        for members, west, widest in self.classes:
            lo = np.searchsorted(west, min_x - widest, side="left")
            hi = np.searchsorted(west, max_x, side="right")
            if hi > lo:
                parts.append(members[lo:hi])
        if not parts:
            return np.zeros(0, np.int64)
        found = np.sort(np.concatenate(parts))
        boxes = self.boxes[found]
        meets = (
            (boxes[:, 2] >= min_x)
            & (boxes[:, 0] <= max_x)
            & (boxes[:, 3] >= min_y)
            & (boxes[:, 1] <= max_y)
        )
        return found[meets]
