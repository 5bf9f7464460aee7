# SPDX-License-Identifier: GPL-3.0-or-later
"""GPS glitches: fixes far from the rest of a recorded track, dropped before anything uses them.

Plain Python and numpy, no bpy. A receiver now and then writes a fix that has nothing to do
with where it was: ``lat=0 lon=0`` (null island), a position on the other side of the earth,
a time years off. One such fix moves the projection centre (the middle of the route's box)
thousands of kilometres, where float32 vertices step by 0.25-1 m, and lengthens the route by
twice the jump. The cleaner (:mod:`.track_smoothing`) works in metres around that centre and
handles glitches of metres to kilometres; this module handles the gross ones, in degrees,
before the projection is chosen.

How (:func:`find_glitches`):

1. Times. Points whose time is out of order with the rest (not on the longest run of
   non-decreasing times: a wild time in the middle of the track) are glitches. If more than
   :data:`MAX_GLITCH_SHARE` of the points would go, the times themselves are not to be trusted:
   they are ignored (``times_ignored`` says why) and the track is judged by position alone.
   Equal times (duplicated timestamps) are in order.
2. Jumps. A step between neighbouring fixes is impossible when it is longer than
   :data:`FAR_APART_M` (200 km), or longer than the distance reachable at :data:`MAX_SPEED_MPS`
   (300 m/s, faster than anything a road trip's logger rides in) in the time between them and
   than :data:`MIN_JUMP_M` (20 km; without times, also 50 times the track's median step: a
   sparsely sampled route). The track is cut at every impossible step into pieces.
3. Pieces. While there is more than one, the smallest piece that sits between two pieces that
   join up without it (an out-and-back glitch, any number of fixes long), else the smallest
   piece of all (a glitch at either end, or one of several glitches in a row), is dropped;
   neighbours that join once it is gone are merged. The piece left is the track.

Refused with :class:`.errors.InputFileError` naming the file and the line of a point: a piece
to drop holding more than a quarter of the points (the track is two recordings far apart),
more than a quarter of the points dropped in all, or fewer than 2 points left. Real
recordings lose nothing (Liverpool's 1,929-point bike ride, Visnjan's 104-point drive).
Elevations are not checked: no stage uses them.
"""

import bisect
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .errors import InputFileError

#: Metres: the sphere on which distances between fixes are measured.
EARTH_RADIUS_M = 6_371_008.8
#: No step between two fixes is a road trip's when it is faster than this (1,080 km/h).
MAX_SPEED_MPS = 300.0
#: Steps up to this long are never impossible: gaps in a recording, tunnels (the cleaner's).
MIN_JUMP_M = 20_000.0
#: Without times, steps up to this many times the median step are not impossible either.
JUMP_STEPS = 50.0
#: A step longer than this is impossible whatever the time between: one scene cannot span it.
FAR_APART_M = 200_000.0
#: At most this share of a track's points (and at least one) may be dropped as glitches.
MAX_GLITCH_SHARE = 0.25


@dataclass(frozen=True)
class GlitchCheck:
    """What :func:`find_glitches` found: the points to keep and why others go."""

    keep: np.ndarray  # int64 indices of the points kept, ascending
    dropped: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: Why the track's times are not used ("" when they are, or it has none).
    times_ignored: str = ""

    @property
    def count(self) -> int:
        """How many points were dropped."""
        return len(self.dropped)


def drop_glitches(track):
    """*track* (:class:`.gpx_track.Track`) without its glitches, and the :class:`GlitchCheck`.

    Raises :class:`.errors.InputFileError` when the track cannot be trusted (see the module
    docstring). The track is returned unchanged when nothing is dropped.
    """
    check = find_glitches(track.lat, track.lon, track.times, path=track.path, lines=track.lines)
    if check.times_ignored:
        track = track.without_times()
    if check.count:
        track = track.subset(check.keep)
    return track, check


def find_glitches(lat, lon, times=None, *, path: str = "track", lines=None) -> GlitchCheck:
    """Find the gross glitches of a track of *lat*/*lon* degrees and *times* seconds (or None).

    *path* and *lines* (each point's line in the file) name the file and the points in
    errors. See the module docstring for the rules and the errors raised.
    """
    lat = np.asarray(lat, np.float64).reshape(-1)
    lon = np.asarray(lon, np.float64).reshape(-1)
    count = len(lat)
    everything = np.arange(count, dtype=np.int64)
    if count < 2:
        return GlitchCheck(everything)
    limit = max(1, int(MAX_GLITCH_SHARE * count))
    where = _Where(path, lines)

    t = None if times is None else np.asarray(times, np.float64).reshape(-1)
    ignored = ""
    candidates = everything
    if t is not None:
        in_order = _in_time_order(t)
        if count - len(in_order) > limit:
            ignored = (
                f"{count - len(in_order)} of {count} point times are out of order: "
                "the track is judged by position alone"
            )
            t = None
        else:
            candidates = in_order

    pieces = _Pieces(lat, lon, t, candidates)
    kept = pieces.settle(limit, where)
    dropped = np.setdiff1d(everything, kept, assume_unique=True)
    if len(dropped) > limit:
        raise where.error(
            f"{len(dropped)} of its {count} points are GPS glitches (far from the rest of the "
            f"track or out of time order), more than can be dropped safely ({limit}): "
            "check the recording",
            int(dropped[0]),
        )
    if len(kept) < 2:
        raise where.error(
            f"only {len(kept)} of its {count} points is not a GPS glitch: "
            "a route needs at least 2 points close together",
            None,
        )
    return GlitchCheck(kept, dropped, ignored)


class _Where:
    """Errors about the track's file, at a point's line."""

    def __init__(self, path: str, lines):
        self.path = path
        self.lines = lines

    def point(self, index: int) -> str:
        line = self.line(index)
        return f"point {index + 1}" + (f" (line {line})" if line is not None else "")

    def line(self, index: "int | None") -> "int | None":
        if index is None or self.lines is None:
            return None
        return int(self.lines[index])

    def error(self, message: str, index: "int | None") -> InputFileError:
        return InputFileError(self.path, f"the GPX track: {message}", line=self.line(index))


class _Pieces:
    """A track cut into pieces at its impossible steps, and the dropping of glitch pieces."""

    def __init__(self, lat, lon, t, candidates: np.ndarray):
        self.lat, self.lon, self.t = lat, lon, t
        self.index = candidates
        steps = self.distance(candidates[:-1], candidates[1:])
        moving = steps[steps > 0]
        median = float(np.median(moving)) if len(moving) else 0.0
        self.floor = min(FAR_APART_M, max(MIN_JUMP_M, JUMP_STEPS * median if t is None else 0))
        cuts = np.flatnonzero(steps > self.allowed(candidates[:-1], candidates[1:])) + 1
        bounds = np.concatenate(([0], cuts, [len(candidates)]))
        # Each piece: [first, end) positions in candidates.
        self.pieces = [[int(a), int(b)] for a, b in itertools.pairwise(bounds)]

    def distance(self, i, j) -> np.ndarray:
        """Great-circle metres between points *i* and *j* (index arrays), haversine."""
        lat1, lat2 = np.radians(self.lat[i]), np.radians(self.lat[j])
        dlat = lat2 - lat1
        dlon = np.radians(self.lon[j] - self.lon[i])
        h = np.sin(dlat / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
        return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))

    def allowed(self, i, j) -> np.ndarray:
        """The longest possible step from points *i* to *j* (index arrays), in metres."""
        if self.t is None:
            return np.full(np.shape(i), self.floor)
        reach = MAX_SPEED_MPS * np.clip(self.t[j] - self.t[i], 0.0, None)
        return np.clip(reach, self.floor, FAR_APART_M)

    def joins(self, i: int, j: int) -> bool:
        """Whether point *j* can follow point *i* (indices, i < j) in a possible step."""
        lat1, lat2 = math.radians(self.lat[i]), math.radians(self.lat[j])
        dlon = math.radians(self.lon[j] - self.lon[i])
        h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * (
            math.sin(dlon / 2) ** 2
        )
        step = 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(max(h, 0.0), 1.0)))
        if self.t is None:
            return step <= self.floor
        reach = MAX_SPEED_MPS * max(float(self.t[j] - self.t[i]), 0.0)
        return step <= min(max(reach, self.floor), FAR_APART_M)

    def settle(self, limit: int, where: _Where) -> np.ndarray:
        """Indices of the points kept: the largest piece and the pieces that join up with it.

        From the largest piece outwards, each piece either joins the track kept so far (its
        first point follows the last one kept, or on the way back its last point precedes
        the first one kept) or is dropped as a glitch. Raises when a piece to drop is larger
        than *limit*: then the track is in far-apart parts.
        """
        pieces, index = self.pieces, self.index
        main = max(range(len(pieces)), key=lambda k: pieces[k][1] - pieces[k][0])
        keep = np.zeros(len(index), dtype=bool)
        first, end = pieces[main]
        keep[first:end] = True
        last = index[end - 1]
        for k in range(main + 1, len(pieces)):
            last = self.take(pieces, k, main, keep, limit, where, last, after=True)
        head = index[first]
        for k in range(main - 1, -1, -1):
            head = self.take(pieces, k, main, keep, limit, where, head, after=False)
        return index[keep]

    def take(self, pieces, k, main, keep, limit, where, end_point, *, after: bool) -> int:
        """Keep piece *k* if it joins *end_point* (the track's end on its side); the new end."""
        first, end = pieces[k]
        joined = (
            self.joins(end_point, self.index[first])
            if after
            else self.joins(self.index[end - 1], end_point)
        )
        if joined:
            keep[first:end] = True
            return self.index[end - 1] if after else self.index[first]
        if end - first > limit:
            self.refuse_two_parts(pieces[min(k, main)], pieces[max(k, main)], where)
        return end_point

    def refuse_two_parts(self, left: list[int], right: list[int], where: _Where) -> None:
        """The track is in far-apart parts, too large to be glitches: say where it jumps."""
        a, b = self.index[left[1] - 1], self.index[right[0]]
        gap = float(self.distance(np.array([a]), np.array([b]))[0])
        count_left, count_right = left[1] - left[0], right[1] - right[0]
        raise where.error(
            f"it is in parts far apart ({count_left:,} and {count_right:,} points), too large "
            f"to be GPS glitches: {where.point(int(b))} is {gap / 1000:,.0f} km from "
            f"{where.point(int(a))}; keep one part per file",
            int(b),
        )


def _in_time_order(t: np.ndarray) -> np.ndarray:
    """Indices of a longest run of non-decreasing times in *t* (all of them if in order)."""
    if len(t) < 2 or bool(np.all(np.diff(t) >= 0)):
        return np.arange(len(t), dtype=np.int64)
    # Patience sorting: tails[k] is the smallest last time of a run of length k + 1.
    tails: list[float] = []
    tail_index: list[int] = []
    previous = np.full(len(t), -1, dtype=np.int64)
    for i, value in enumerate(t.tolist()):
        k = bisect.bisect_right(tails, value)
        if k:
            previous[i] = tail_index[k - 1]
        if k == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[k] = value
            tail_index[k] = i
    run = []
    i = tail_index[-1]
    while i >= 0:
        run.append(i)
        i = int(previous[i])
    return np.array(run[::-1], dtype=np.int64)
