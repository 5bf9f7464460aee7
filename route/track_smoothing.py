"""Clean, smooth, resample and map-match recorded GPS tracks in projected metres.

Plain Python and numpy, no bpy. A recording is noisy: repeated fixes while standing still,
single fixes that jump tens or hundreds of metres away and back, and a few metres of jitter
everywhere. The usual chain is ``xy = clean_track(xy, times)``, then ``smooth_track(xy)``
(a smooth line where the car went) and/or ``snap_track_to_roads(xy, graph)`` (the roads
it drove on), then ``resample``. :func:`clean_track_indices` and :func:`match_track` give
the same results with their bookkeeping (which fixes were kept, how far each moved).
"""

import math

import numpy as np

from .errors import RouteError, SettingsError
from .routing import (
    Route,
    Snap,
    leg_lengths,
    leg_polyline,
    shortest_leg,
    snap_candidates,
)


def _as_xy(xy) -> np.ndarray:
    return np.asarray(xy, dtype=np.float64).reshape(-1, 2)


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise SettingsError(name, f"must be a positive number of metres, got {value:g}")
    return value


def cumulative_length(xy) -> np.ndarray:
    """Distance along the polyline *xy* ((N, 2)) at each point, starting at 0."""
    xy = _as_xy(xy)
    steps = np.hypot(*np.diff(xy, axis=0).T) if len(xy) > 1 else np.zeros(0)
    return np.concatenate(([0.0], np.cumsum(steps)))


def clean_track_indices(
    xy,
    times=None,
    *,
    min_step_m: float = 1.0,
    max_speed_mps: float = 70.0,
    max_accel_mps2: float = 10.0,
    spike_m: float = 20.0,
    spike_ratio: float = 1.0,
    lookahead: int = 3,
) -> np.ndarray:
    """Indices of the fixes of a recorded track to keep (ascending): ``xy[keep]``, ``times[keep]``.

    Walking the track in order and comparing each point with the last one kept, drops:

    - *duplicates*: points less than *min_step_m* from the last kept one (standing still);
    - *speed jumps* (with *times*, in seconds): a point reached faster than plausible or
      with no time passing. If the track is plausible, and slower, without the last point
      kept than without this one, the last one kept was the jump and goes; else, if one of
      the next *lookahead* points is plausible from the last one kept, the points before
      it go (runs of up to that many bad fixes); else the jump is real (a gap in the
      recording) and stays. Plausible is up to 4
      times the track's median speed (at least 15 m/s), never above *max_speed_mps*
      (70 m/s = 252 km/h): a 50 m/s jump is a glitch on a bike ride, and a sustained high
      speed is never dropped, since no later point disagrees with it;
    - *out-and-back spikes* (after the above): a point more than *spike_m* off the line
      between the points kept before and after it and further off than both of them are
      off theirs, where, with *times*, getting there and back would take an acceleration
      above *max_accel_mps2* (10 m/s², about 1 g: more than a car brakes or corners), or,
      without times, it lies more than *spike_ratio* times that line's length off it. At
      ordinary sampling rates a real U-turn stays within *spike_m* of the line; without
      times a U-turn sampled very sparsely can look like a spike. With times, an
      excursion slow enough to be driven is kept, however odd its shape.

    The first point is always kept. Returns an int64 index array.
    """
    xy = _as_xy(xy)
    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64)
    t = None if times is None else np.asarray(times, dtype=np.float64).reshape(-1)
    if t is not None and len(t) != len(xy):
        raise ValueError(f"{len(t)} times for {len(xy)} points")
    cleaner = _Cleaner(xy, t, max_speed_mps, max_accel_mps2, spike_m, spike_ratio)
    keep = cleaner.drop_jumps(min_step_m, lookahead)
    return np.array(cleaner.drop_spikes(keep), dtype=np.int64)


def clean_track(
    xy,
    times=None,
    *,
    min_step_m: float = 1.0,
    max_speed_mps: float = 70.0,
    max_accel_mps2: float = 10.0,
    spike_m: float = 20.0,
    spike_ratio: float = 1.0,
    lookahead: int = 3,
) -> np.ndarray:
    """The fixes of a recorded track without duplicates and spikes: a (K, 2) array.

    *xy* (N, 2) in metres, *times* (N,) in seconds or None. See
    :func:`clean_track_indices` for the rules and options; use that to keep times and
    elevations aligned with the fixes kept.
    """
    xy = _as_xy(xy)
    keep = clean_track_indices(
        xy,
        times,
        min_step_m=min_step_m,
        max_speed_mps=max_speed_mps,
        max_accel_mps2=max_accel_mps2,
        spike_m=spike_m,
        spike_ratio=spike_ratio,
        lookahead=lookahead,
    )
    return xy[keep]


class _Cleaner:
    """The tests of :func:`clean_track` over one track (plain lists: per-point Python loops)."""

    def __init__(self, xy, t, max_speed_mps, max_accel_mps2, spike_m, spike_ratio):
        self.pts = xy.tolist()
        self.t = t
        self.max_accel = max_accel_mps2
        self.spike_m = spike_m
        self.spike_ratio = spike_ratio
        self.speed_limit = max_speed_mps
        if t is not None and len(xy) > 2:
            with np.errstate(divide="ignore", invalid="ignore"):
                speeds = np.hypot(*np.diff(xy, axis=0).T) / np.diff(t)
            speeds = speeds[np.isfinite(speeds)]
            if len(speeds):
                # The median, not a high percentile: spikes make two fast steps each.
                typical = 4 * float(np.median(speeds))
                self.speed_limit = min(max_speed_mps, max(15.0, typical))

    def dist(self, i: int, j: int) -> float:
        a, b = self.pts[i], self.pts[j]
        return math.hypot(b[0] - a[0], b[1] - a[1])

    def plausible(self, i: int, j: int) -> bool:
        dt = self.t[j] - self.t[i]
        return dt > 0 and self.dist(i, j) <= self.speed_limit * dt

    def speed(self, i: int, j: int) -> float:
        dt = self.t[j] - self.t[i]
        return self.dist(i, j) / dt if dt > 0 else math.inf

    def last_is_jump(self, a: int, b: int, c: int) -> bool:
        """Between b and c (c + 1 exists), is b rather than c the odd one out?"""
        # Without b the track a, c, c+1 must be plausible and slower than without c.
        without_b = max(self.speed(a, c), self.speed(c, c + 1))
        without_c = max(self.speed(a, b), self.speed(b, c + 1))
        return without_b <= self.speed_limit and without_b < without_c

    def drop_jumps(self, min_step_m: float, lookahead: int) -> list[int]:
        """The first pass: duplicates and (with times) speed jumps."""
        n = len(self.pts)
        keep = [0]
        i = 1
        while i < n:
            last = keep[-1]
            if self.dist(last, i) < min_step_m:
                i += 1
                continue
            if self.t is not None and not self.plausible(last, i):
                if len(keep) > 1 and i + 1 < n and self.last_is_jump(keep[-2], last, i):
                    keep.pop()
                    continue
                window = range(i + 1, min(n, i + 1 + lookahead))
                ahead = next((j for j in window if self.plausible(last, j)), None)
                if ahead is not None:
                    i = ahead  # drop the implausible fixes in between
                    continue
            keep.append(i)
            i += 1
        return keep

    def drop_spikes(self, keep: list[int]) -> list[int]:
        """The second pass: out-and-back spikes, judging local maxima of the off-line distance."""
        pts = self.pts
        # A good point beside a spike sticks out too (the spike bends its line), but less.
        for _ in range(3):  # removing one spike can reveal a second next to it
            if len(keep) < 3:
                break
            off = [0.0]
            off += [
                _off_line(pts[keep[j]], pts[keep[j - 1]], pts[keep[j + 1]])
                for j in range(1, len(keep) - 1)
            ]
            off.append(0.0)
            drop = {
                j
                for j in range(1, len(keep) - 1)
                if off[j] > self.spike_m
                and off[j] >= max(off[j - 1], off[j + 1])
                and self.is_spike(keep[j - 1], keep[j], keep[j + 1], off[j])
            }
            if not drop:
                break
            keep = [k for j, k in enumerate(keep) if j not in drop]
        return keep

    def is_spike(self, last: int, i: int, nxt: int, off: float) -> bool:
        """Whether point *i*, *off* metres off the line last-nxt, is a spike."""
        t, pts = self.t, self.pts
        if t is None:
            return off > self.spike_ratio * self.dist(last, nxt)
        dt_in, dt_out = t[i] - t[last], t[nxt] - t[i]
        if dt_in <= 0 or dt_out <= 0:
            return False  # no time passes: a speed jump, left to the first pass
        dvx = (pts[nxt][0] - pts[i][0]) / dt_out - (pts[i][0] - pts[last][0]) / dt_in
        dvy = (pts[nxt][1] - pts[i][1]) / dt_out - (pts[i][1] - pts[last][1]) / dt_in
        return math.hypot(dvx, dvy) / ((dt_in + dt_out) / 2) > self.max_accel


def _off_line(p, a, b) -> float:
    """Distance from point *p* to the segment a-b."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    u = 0.0 if length2 == 0 else ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2
    u = min(1.0, max(0.0, u))
    return math.hypot(p[0] - a[0] - u * dx, p[1] - a[1] - u * dy)


def smooth_track(xy, window_m: float = 15.0) -> np.ndarray:
    """The track *xy* smoothed by a Gaussian along its length; the end points stay where they are.

    The Gaussian's standard deviation is ``window_m / 2`` metres along the track (so it
    averages over about ±``window_m``), turned into a number of fixes with the local
    spacing (the median step over 11 fixes), so slow stretches with dense fixes and fast
    ones with sparse fixes get the same smoothing in metres. Weights follow the fixes'
    order rather than the distance measured along the noisy track: that distance carries
    each fix's own error, and weights from it would keep the error along the track. Near
    each end, and near a gap in the recording, the window shrinks so that it stays
    symmetric and never reaches past the end or across the gap: a lopsided window would
    pull fixes towards one side. Returns a new (N, 2) array.
    """
    window_m = _positive("window_m", window_m)
    xy = _as_xy(xy)
    out = xy.copy()
    n = len(xy)
    if n < 3:
        return out
    steps = np.hypot(*np.diff(xy, axis=0).T)
    half = min(5, (len(steps) - 1) // 2)
    padded = np.pad(steps, half, mode="edge")
    local = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)
    # Spacing around fix i: the mean of the local medians of the steps on either side.
    spacing = np.empty(n)
    spacing[0], spacing[-1] = local[0], local[-1]
    spacing[1:-1] = (local[:-1] + local[1:]) / 2
    sigma = (window_m / 2) / np.maximum(spacing, 1e-6)  # in fixes
    # Fixes more than 3 sigma (plus room for noise) away along the track, as beyond a gap in
    # the recording, say nothing about this one: the window stops short of them, on both
    # sides alike so that it stays symmetric.
    s = cumulative_length(xy)
    limit = 1.5 * window_m
    index = np.arange(n)
    before = index - np.searchsorted(s, s - limit, side="left")
    after = np.searchsorted(s, s + limit, side="right") - 1 - index
    room = np.minimum(np.minimum(before, after), np.minimum(index, n - 1 - index))
    for i in range(1, n - 1):
        sig = min(sigma[i], room[i] / 3)
        reach = int(3 * sig)
        if reach == 0:
            continue
        offsets = np.arange(-reach, reach + 1)
        w = np.exp(-0.5 * (offsets / sig) ** 2)
        out[i] = w @ xy[i - reach : i + reach + 1] / w.sum()
    return out


def resample(xy, step_m: float) -> np.ndarray:
    """Points evenly spaced along *xy*, no more than *step_m* apart, first and last included.

    The spacing is ``length / ceil(length / step_m)``, so every step is the same length.
    Corners between samples are cut; use a small step where they matter.
    """
    step_m = _positive("step_m", step_m)
    xy = _as_xy(xy)
    if len(xy) == 0:
        return xy.copy()
    s = cumulative_length(xy)
    keep = np.concatenate(([True], np.diff(s) > 0))
    xy, s = xy[keep], s[keep]
    if len(xy) < 2:
        return xy.copy()
    count = max(1, math.ceil(s[-1] / step_m - 1e-9))
    at = np.linspace(0.0, s[-1], count + 1)
    return np.column_stack((np.interp(at, s, xy[:, 0]), np.interp(at, s, xy[:, 1])))


def match_track(
    xy,
    graph,
    max_snap_m: float = 50.0,
    *,
    sigma_m: float = 5.0,
    beta_m: float = 10.0,
    candidates: int = 5,
    min_spacing_m: "float | None" = None,
) -> Route:
    """Match a recorded drive to the roads: the drivable route that best explains the fixes.

    *xy* (N, 2) are the fixes in projected metres, best cleaned first (:func:`clean_track`).
    What it does, rather than snapping each fix on its own (which sends the line into every
    side street a noisy fix lies nearer to): a hidden-Markov map matcher after Newson and
    Krumm (2009), decoded with Viterbi, whose result is joined by shortest drivable paths.

    - Fixes closer than *min_spacing_m* (default ``2 * sigma_m``) to the last one used are
      skipped, which removes jitter while standing still.
    - Each fix gets up to *candidates* positions on drivable segments within *max_snap_m*;
      a fix without any is left out and the route bridges it.
    - A candidate costs ``(distance / sigma_m)^2 / 2`` (GPS noise of *sigma_m*); a move
      between candidates of consecutive fixes costs ``|driven - straight| / beta_m``, where
      *driven* is the shortest drivable distance (oneways respected) and *straight* the
      distance between the fixes. Moves longer than ``2 * straight + 2 * max_snap_m + 20``
      are not considered.
    - A candidate up to ``4 * sigma_m`` behind the position reached on the same road
      (reachable from it only backwards, and either against the direction the fixes move
      in or only by a loop forwards) is noise while crawling: the match stays where it is,
      judged by the distance from the fix to where it stays. Each Viterbi path carries the
      position it has reached, so every move costed is the move the result makes.
    - A fix no path can reach is skipped as an outlier (up to :data:`MAX_SKIPPED` in a
      row); after that the track left the roads and the matching starts afresh.

    The result follows the roads, consecutive positions joined by shortest drivable paths,
    except where the matching started afresh and the roads offer no path or only a detour
    (longer than twice the straight distance plus 100 m): the line jumps there straight.
    Short out-and-back spurs (up to ``8 * sigma_m``, a dip into a side street) are cut.
    ``waypoint_snaps`` gives each input point's distance to its chosen candidate (NaN if
    skipped), ``waypoint_index`` the index in ``xy`` of the position reached at that point
    (-1 if skipped). Raises :class:`.errors.RouteError` if no fix lies within *max_snap_m*
    of a road. Measured on Krems: about 0.3 ms per fix used.
    """
    max_snap_m = _positive("max_snap_m", max_snap_m)
    sigma_m = _positive("sigma_m", sigma_m)
    beta_m = _positive("beta_m", beta_m)
    spacing = 2 * sigma_m if min_spacing_m is None else float(min_spacing_m)
    xy = _as_xy(xy)
    if graph.segment_count == 0:
        raise RouteError("the map data has no drivable roads (no highway a car may use)")

    # Fixes used, with their candidate snaps.
    used: list[int] = []
    cands: list[list[Snap]] = []
    last = None
    for i, (x, y) in enumerate(xy):
        if last is not None and math.hypot(x - last[0], y - last[1]) < spacing:
            continue
        found = snap_candidates(graph, x, y, max_snap_m, limit=candidates)
        if found:
            used.append(i)
            cands.append(found)
            last = (x, y)
    if not used:
        raise RouteError(
            f"no point of the track lies within {max_snap_m:.0f} m of a drivable road: "
            "is it inside the map data?"
        )
    matcher = _Matcher(graph, xy[used], max_snap_m, sigma_m, beta_m, hold_m=4 * sigma_m)
    positions, chosen, fresh = matcher.decode(cands)
    return _assemble(graph, len(xy), used, positions, chosen, fresh, max_spur_m=8 * sigma_m)


def snap_track_to_roads(
    xy,
    graph,
    max_snap_m: float = 50.0,
    *,
    sigma_m: float = 5.0,
    beta_m: float = 10.0,
    candidates: int = 5,
    min_spacing_m: "float | None" = None,
) -> np.ndarray:
    """The recorded drive *xy* (N, 2) moved onto the roads it followed: an (M, 2) polyline.

    Not each fix snapped on its own, but the drivable route that best explains the fixes,
    with consecutive matched positions joined by shortest drivable paths: see
    :func:`match_track`, which takes the same arguments and also says how far each fix
    moved and where it lies on the result.
    """
    matched = match_track(
        xy,
        graph,
        max_snap_m,
        sigma_m=sigma_m,
        beta_m=beta_m,
        candidates=candidates,
        min_spacing_m=min_spacing_m,
    )
    return matched.xy


#: Fixes in a row the matcher may skip as outliers before it restarts (see _Matcher.decode).
MAX_SKIPPED = 3


class _Matcher:
    """Viterbi over candidate snaps; each path also carries the position it has reached."""

    def __init__(self, graph, fixes, max_snap_m, sigma_m, beta_m, hold_m):
        self.graph = graph
        self.fixes = fixes
        self.max_snap_m = max_snap_m
        self.sigma_m = sigma_m
        self.beta_m = beta_m
        self.hold_m = hold_m

    def heading(self, k: int) -> np.ndarray:
        """Direction the fixes move in around fix *k* (over two fixes each side)."""
        fixes = self.fixes
        return fixes[min(k + 2, len(fixes) - 1)] - fixes[max(k - 2, 0)]

    def decode(self, cands: list[list[Snap]]) -> tuple[list, list, list[bool]]:
        """Per used fix: the position reached, the candidate chosen, and whether a path starts.

        Both are None for a fix skipped as an outlier: when no candidate of a fix can be
        reached from any path, the fix is skipped and the next one tried, up to
        :data:`MAX_SKIPPED` in a row; after that the track really left the roads and the
        paths start afresh from the fix that failed first.
        """
        sigma = self.sigma_m
        cost = np.array([0.5 * (c.distance / sigma) ** 2 for c in cands[0]])
        # Per accepted step: its fix, best predecessor per candidate (-1: a path starts
        # here), the position each candidate's path has reached, and the costs.
        fix_of = [0]
        back: list[np.ndarray] = [np.full(len(cost), -1)]
        reached: list[list[Snap]] = [list(cands[0])]
        costs = [cost]
        k = 1
        skipped = 0
        while k < len(cands):
            cur = cands[k]
            step = self.step(k, fix_of[-1], reached[-1], cost, cur)
            if step is None and skipped < MAX_SKIPPED and k + 1 < len(cands):
                skipped += 1
                k += 1
                continue
            if step is None:
                # The track left the roads: start afresh at the first fix that failed.
                k -= skipped
                cur = cands[k]
                best = np.full(len(cur), -1)
                cost = np.array([0.5 * (c.distance / sigma) ** 2 for c in cur])
                reached.append(list(cur))
            else:
                best, cost, positions = step
                reached.append(positions)
            fix_of.append(k)
            back.append(best)
            costs.append(cost)
            skipped = 0
            k += 1
        positions_out: list = [None] * len(cands)
        chosen_out: list = [None] * len(cands)
        fresh = [False] * len(cands)
        pick = int(np.argmin(cost))
        for s in range(len(fix_of) - 1, -1, -1):
            positions_out[fix_of[s]] = reached[s][pick]
            chosen_out[fix_of[s]] = cands[fix_of[s]][pick]
            before = int(back[s][pick])
            fresh[fix_of[s]] = before < 0
            if s:
                # At a fresh start, the path before it ends at its own best candidate.
                pick = before if before >= 0 else int(np.argmin(costs[s - 1]))
        return positions_out, chosen_out, fresh

    def step(self, k: int, prev_k: int, starts: list[Snap], cost: np.ndarray, cur: list[Snap]):
        """One Viterbi step from fix *prev_k* to fix *k*: (best, cost, reached), None if stuck."""
        sigma = self.sigma_m
        emission = np.array([0.5 * (c.distance / sigma) ** 2 for c in cur])
        move, stay = self.moves(k, prev_k, starts, cost, cur)
        # A path that stays is judged by how far the fix is from where it stayed, so a
        # path stuck behind (say, in a oneway it took by mistake) soon loses.
        fx, fy = self.fixes[k]
        stayed = np.array([0.5 * (math.hypot(fx - p.x, fy - p.y) / sigma) ** 2 for p in starts])
        total = cost[:, None] + move + np.where(stay, stayed[:, None], emission[None, :])
        best = np.argmin(total, axis=0)
        cols = np.arange(len(cur))
        new_cost = total[best, cols]
        if not np.isfinite(new_cost).any():
            return None
        positions = [starts[best[b]] if stay[best[b], b] else cur[b] for b in cols]
        return best, new_cost, positions

    def moves(self, k: int, prev_k: int, starts: list[Snap], cost: np.ndarray, cur: list[Snap]):
        """Cost of each move from a previous path's position to each candidate, and stays."""
        graph = self.graph
        straight = float(math.hypot(*(self.fixes[k] - self.fixes[prev_k])))
        bound = 2 * straight + 2 * self.max_snap_m + 20.0
        heading = self.heading(k)
        move = np.full((len(starts), len(cur)), np.inf)
        stay = np.zeros(move.shape, dtype=bool)
        live = [a for a in range(len(starts)) if np.isfinite(cost[a])]
        memo: dict[tuple[int, float], tuple[list[float], list[float]]] = {}
        for a in live:
            start = starts[a]
            key = (start.segment, start.t)  # paths that stayed share their position
            if key not in memo:
                ahead = leg_lengths(graph, start, cur, bound)
                behind = [leg_lengths(graph, c, [start], self.hold_m)[0] for c in cur]
                memo[key] = (ahead, behind)
            ahead, behind = memo[key]
            for b, c in enumerate(cur):
                drive = abs(ahead[b] - straight) / self.beta_m
                against = (c.x - start.x) * heading[0] + (c.y - start.y) * heading[1] < 0
                loop = ahead[b] > behind[b] + 2 * self.hold_m  # only a loop leads forward there
                # Noise while crawling stays on one road: never stay across a junction.
                same_road = graph.seg_way[c.segment] == graph.seg_way[start.segment]
                if same_road and behind[b] <= self.hold_m and (against or loop):
                    # Stay: driven 0 m while the fixes moved `straight`.
                    move[a, b], stay[a, b] = straight / self.beta_m, True
                else:
                    move[a, b] = drive
        return move, stay


def _assemble(graph, n_points: int, used, positions, chosen, fresh, max_spur_m: float) -> Route:
    """Join the positions reached by shortest drivable legs into one Route, minus short spurs.

    Where a fresh Viterbi path starts (the previous one could not go on), the leg to it
    is driven only if that is no detour (at most twice the straight distance plus 100 m);
    else, or if there is no drivable path at all, the line jumps there straight.
    """
    current = next(p for p in positions if p is not None)
    points: list[np.ndarray] = [np.array([[current.x, current.y]])]
    ids: list[np.ndarray] = [np.array([-1])]  # graph node of each vertex, -1 for a snap
    count = 1
    raw_index = [0]  # per used fix: its vertex before cleaning
    for position, start in zip(positions[1:], fresh[1:], strict=True):
        if position is not None and position is not current:
            leg = shortest_leg(graph, current, position)
            gap = math.hypot(position.x - current.x, position.y - current.y)
            if leg is None or (start and leg[0] > 2 * gap + 100.0):
                piece, piece_ids = np.array([[position.x, position.y]]), [-1]
            else:
                piece = leg_polyline(graph, current, position, leg[1])[1:]
                piece_ids = [*leg[1], -1]
            points.append(piece)
            ids.append(np.asarray(piece_ids, dtype=np.int64))
            count += len(piece)
            current = position
        raw_index.append(count - 1)
    line = np.concatenate(points)
    node_ids = np.concatenate(ids)
    keep = _without_spurs(line, max_spur_m)
    # A vertex that was cut maps to the last vertex kept before it.
    new_index = np.cumsum(np.isin(np.arange(len(line)), keep)) - 1
    line, node_ids = line[keep], node_ids[keep]
    snaps_out = np.full(n_points, np.nan)
    index_out = np.full(n_points, -1, dtype=np.int64)
    for k, i in enumerate(used):
        if chosen[k] is not None:
            snaps_out[i] = chosen[k].distance
            index_out[i] = max(0, new_index[raw_index[k]])
    node_rows = graph.node_rows[node_ids[node_ids >= 0]]
    return Route(
        xy=line,
        length_m=float(cumulative_length(line)[-1]),
        node_rows=node_rows,
        waypoint_snaps=snaps_out,
        waypoint_index=index_out,
    )


def _without_spurs(xy: np.ndarray, max_spur_m: float) -> np.ndarray:
    """Indices of the vertices of *xy* to keep: no duplicates, no short out-and-back spurs.

    A spur is a stretch the line drives and then drives straight back along (an exact
    reversal, as when a match dips into a side street and returns). Spurs up to
    *max_spur_m* long are cut back to where they leave the line; longer ones are real
    U-turns and stay (only their first *max_spur_m* at the tip would be trimmed).
    """
    pts = xy.tolist()
    keep: list[int] = []
    budget = 0.0  # length cut by the spur being removed so far

    def reversal(a, b, c) -> float:
        # The length retraced if a -> b -> c doubles back on itself, else 0.
        d1x, d1y = pts[b][0] - pts[a][0], pts[b][1] - pts[a][1]
        d2x, d2y = pts[c][0] - pts[b][0], pts[c][1] - pts[b][1]
        l1, l2 = math.hypot(d1x, d1y), math.hypot(d2x, d2y)
        if d1x * d2x + d1y * d2y >= 0 or abs(d1x * d2y - d1y * d2x) > 1e-6 * l1 * l2:
            return 0.0
        return min(l1, l2)

    for i in range(len(pts)):
        if keep and pts[i] == pts[keep[-1]]:
            continue
        keep.append(i)
        cut = False
        while len(keep) >= 3:
            retraced = reversal(keep[-3], keep[-2], keep[-1])
            if retraced == 0.0 or budget + retraced > max_spur_m:
                break
            budget += retraced
            cut = True
            del keep[-2]
            if pts[keep[-1]] == pts[keep[-2]]:
                keep.pop()
        if not cut:
            budget = 0.0
    return np.array(keep, dtype=np.int64)
