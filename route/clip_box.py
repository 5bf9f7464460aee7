"""An axis-aligned box in projected metres: what part of the map the scene keeps.

Plain Python and numpy, no bpy.
"""

from dataclasses import dataclass

import numpy as np

from .errors import SettingsError
from .polylines import moved, split_lines, without_repeats

# Liang-Barsky's parameter tolerance: crossings closer than this (relative to a segment) to
# its ends count as the end itself, so a piece never starts with a sliver of length ~1e-15.
_EPS = 1e-12


@dataclass(frozen=True)
class ClipBox:
    """The box ``min_x <= x <= max_x``, ``min_y <= y <= max_y`` in projected metres."""

    min_x: float
    min_y: float
    max_x: float
    max_y: float

    def __post_init__(self):
        values = (self.min_x, self.min_y, self.max_x, self.max_y)
        if not all(np.isfinite(v) for v in values):
            raise ValueError(f"ClipBox corners must be finite numbers, got {values}")
        if self.min_x > self.max_x or self.min_y > self.max_y:
            raise ValueError(f"ClipBox min corner lies beyond its max corner: {values}")

    @classmethod
    def around(cls, xy, padding: float = 0.0) -> "ClipBox":
        """The bounding box of the points *xy* ((N, 2), N >= 1) grown by *padding* metres each side.

        A negative or non-finite *padding* raises :class:`SettingsError`.
        """
        padding = float(padding)
        if not np.isfinite(padding) or padding < 0:
            raise SettingsError("padding", f"must be 0 metres or more, got {padding:g}")
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if len(xy) == 0:
            raise ValueError("ClipBox.around() needs at least one point")
        lo = xy.min(axis=0) - padding
        hi = xy.max(axis=0) + padding
        return cls(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))

    @classmethod
    def from_bounds(cls, bounds, projection, samples: int = 16) -> "ClipBox":
        """The box around a latitude/longitude :class:`~.osm_model.Bounds` once projected.

        A lat/lon box's edges are curves after projection, so *samples* points along each
        edge are projected, not only the corners, plus the central meridian's crossing of
        the top and bottom edges, where a parallel lies furthest south in a transverse
        Mercator (its extreme is never missed between two samples).
        """
        t = np.linspace(0.0, 1.0, max(2, samples))
        lat = bounds.min_lat + t * (bounds.max_lat - bounds.min_lat)
        lon = bounds.min_lon + t * (bounds.max_lon - bounds.min_lon)
        if bounds.min_lon <= projection.lon0 <= bounds.max_lon:
            lon = np.append(lon, projection.lon0)
        flat = np.full_like(lon, 1.0)
        side = np.full_like(lat, 1.0)
        lats = np.concatenate((bounds.min_lat * flat, bounds.max_lat * flat, lat, lat))
        lons = np.concatenate((lon, lon, bounds.min_lon * side, bounds.max_lon * side))
        x, y = projection.forward(lats, lons)
        return cls.around(np.column_stack((x, y)))

    def as_tuple(self) -> tuple[float, float, float, float]:
        """(min_x, min_y, max_x, max_y)."""
        return self.min_x, self.min_y, self.max_x, self.max_y

    @property
    def size(self) -> tuple[float, float]:
        """(width, height) in metres."""
        return self.max_x - self.min_x, self.max_y - self.min_y

    @property
    def centre(self) -> tuple[float, float]:
        """(x, y) of the box's middle."""
        return (self.min_x + self.max_x) / 2, (self.min_y + self.max_y) / 2

    def contains(self, xy) -> np.ndarray:
        """Boolean mask: which points of *xy* ((N, 2), or one (2,) point) lie inside, edges in."""
        xy = np.asarray(xy, dtype=np.float64)
        x, y = xy[..., 0], xy[..., 1]
        return (x >= self.min_x) & (x <= self.max_x) & (y >= self.min_y) & (y <= self.max_y)

    def clip_polyline(self, xy) -> list[np.ndarray]:
        """The pieces of the polyline *xy* ((N, 2)) inside the box, in order.

        Each piece is an (M, 2) float64 array with M >= 2 and starts or ends with the
        point where the line crosses the box's edge. Pieces of zero length (a line that
        only touches the box at a point) are dropped. Segments are clipped with
        Liang-Barsky; runs of segments that stay inside are joined into one piece.
        """
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if len(xy) < 2:
            return []
        inside = self.contains(xy)
        if inside.all():
            piece = without_repeats(xy)
            return [piece] if len(piece) >= 2 else []
        t0, t1 = self._liang_barsky(xy[:-1], xy[1:])
        pieces: list[np.ndarray] = []
        current: list[np.ndarray] = []
        for i in np.flatnonzero(t0 <= t1):
            a, b = xy[i], xy[i + 1]
            start = a if t0[i] <= _EPS else a + t0[i] * (b - a)
            end = b if t1[i] >= 1 - _EPS else a + t1[i] * (b - a)
            if current and (t0[i] > _EPS or not _same(current[-1], start)):
                # The previous piece left the box (or this segment is not its continuation).
                pieces.append(np.array(current))
                current = []
            if not current:
                current.append(start)
            current.append(end)
            if t1[i] < 1 - _EPS:
                pieces.append(np.array(current))
                current = []
        if current:
            pieces.append(np.array(current))
        pieces = [without_repeats(p) for p in pieces]
        return [p for p in pieces if len(p) >= 2]

    def clip_polylines(self, lines) -> list[list[np.ndarray]]:
        """:meth:`clip_polyline` of every line in *lines*: the same pieces, line by line.

        Lines entirely inside the box (with a padded route, nearly all) are checked and
        de-duplicated together, a few array operations for all of them rather than several
        numpy calls per line; only lines that cross an edge are clipped one by one.
        """
        lines = [np.asarray(line, dtype=np.float64).reshape(-1, 2) for line in lines]
        count = len(lines)
        if not count:
            return []
        sizes = np.fromiter((len(line) for line in lines), np.int64, count)
        points = np.concatenate(lines)
        line_of = np.repeat(np.arange(count), sizes)
        crossing = np.bincount(line_of, weights=~self.contains(points), minlength=count) > 0
        keep = moved(points, line_of)
        deduped, kept = split_lines(points[keep], line_of[keep], count)
        clipped = []
        for index, line in enumerate(lines):
            if crossing[index]:
                clipped.append(self.clip_polyline(line))
            else:
                clipped.append([deduped[index]] if kept[index] >= 2 else [])
        return clipped

    def _liang_barsky(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per segment a->b, the parameter range [t0, t1] inside the box (t0 > t1: none)."""
        d = b - a
        t0 = np.zeros(len(a))
        t1 = np.ones(len(a))
        # The four edges as p * t <= q: left, right, bottom, top.
        for p, q in (
            (-d[:, 0], a[:, 0] - self.min_x),
            (d[:, 0], self.max_x - a[:, 0]),
            (-d[:, 1], a[:, 1] - self.min_y),
            (d[:, 1], self.max_y - a[:, 1]),
        ):
            parallel = p == 0
            # Parallel to this edge and outside it: the whole segment is out.
            t1 = np.where(parallel & (q < 0), -1.0, t1)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(parallel, 0.0, q / np.where(parallel, 1.0, p))
            entering = (p < 0) & ~parallel
            leaving = (p > 0) & ~parallel
            t0 = np.where(entering, np.maximum(t0, r), t0)
            t1 = np.where(leaving, np.minimum(t1, r), t1)
        return t0, t1


def _same(p: np.ndarray, q: np.ndarray) -> bool:
    return bool(p[0] == q[0] and p[1] == q[1])


def _has_length(xy: np.ndarray) -> bool:
    return bool(np.any(xy[1:] != xy[:-1]))
