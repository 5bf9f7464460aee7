"""Shortest drivable routes through waypoints over a :class:`.road_graph.RoadGraph`.

Plain Python and numpy, no bpy.

Each waypoint is snapped to the nearest point *on* a drivable segment (not to the nearest
node), and the segment is split there virtually: from a snap one may drive to either end
of its segment that the segment's direction allows, at the cost of the part driven. If no
drivable path leads from there, the next nearest roads within the snapping distance are
tried, up to :data:`SNAP_ALTERNATIVES` per waypoint (a waypoint's snap is settled by the
leg that reaches it; the first waypoint's by the first leg). So a fragment of road the
network does not reach, such as a lane cut off by the map's edge, does not block a route
that a street nearby allows. Legs
between consecutive waypoints are found with A* (``heapq``; the straight-line distance to
the target is the heuristic, which never overestimates because every edge is at least as
long as the straight line between its ends), so the result is an exact shortest path.
"""

import heapq
import math
from dataclasses import dataclass

import numpy as np

from .errors import RouteError, SettingsError
from .strict_numbers import NumberError, parse_decimal, strip_ascii

#: How far a waypoint may lie from the nearest drivable road by default (metres).
DEFAULT_MAX_SNAP_M = 250.0
# A snap closer than this to a segment end is that end node: it may then leave along any edge.
_NODE_EPS_M = 1e-6
#: Roads tried per waypoint, nearest first, when the nearest cannot be reached.
SNAP_ALTERNATIVES = 5
_INF = math.inf


@dataclass(frozen=True)
class Snap:
    """A point placed on drivable segment ``segment`` at ``a + t (b - a)``, moved ``distance`` m."""

    segment: int
    t: float
    x: float
    y: float
    distance: float


@dataclass(frozen=True)
class Route:
    """A drivable route in projected metres.

    ``xy`` (M, 2) float64 polyline without consecutive duplicates; ``length_m`` its length;
    ``node_rows`` (int64) the ``osm.nodes`` rows of the graph nodes passed through, in order;
    ``waypoint_snaps`` (float64, one per waypoint) how far each waypoint moved onto the road
    (NaN where a point was not used); ``waypoint_index`` (int64) the index in ``xy`` of each
    snapped waypoint (-1 where not used).
    """

    xy: np.ndarray
    length_m: float
    node_rows: np.ndarray
    waypoint_snaps: np.ndarray
    waypoint_index: np.ndarray


# ---- snapping -------------------------------------------------------------------------------


def snap_candidates(graph, x: float, y: float, radius: float, limit: int = 1) -> list[Snap]:
    """The nearest points on drivable segments within *radius* m of (x, y), nearest first.

    At most *limit* snaps, each on a different segment and at a different position (the
    same node reached through several segments counts once).
    """
    segments = graph.segments_near(x, y, radius)
    if len(segments) == 0:
        return []
    t, distance = graph.project(x, y, segments)
    inside = distance <= radius
    segments, t, distance = segments[inside], t[inside], distance[inside]
    order = np.argsort(distance, kind="stable")
    snaps: list[Snap] = []
    seen: set[tuple[float, float]] = set()
    for i in order:
        seg = int(segments[i])
        a, b = graph.xy[graph.seg_a[seg]], graph.xy[graph.seg_b[seg]]
        px, py = a + t[i] * (b - a)
        key = (round(float(px), 6), round(float(py), 6))
        if key in seen:
            continue
        seen.add(key)
        snaps.append(Snap(seg, float(t[i]), float(px), float(py), float(distance[i])))
        if len(snaps) >= limit:
            break
    return snaps


def _at_node(graph, snap: Snap) -> "int | None":
    """The graph node *snap* lies on (within 1 micrometre), else None."""
    length = float(graph.seg_length[snap.segment])
    if snap.t * length <= _NODE_EPS_M:
        return int(graph.seg_a[snap.segment])
    if (1.0 - snap.t) * length <= _NODE_EPS_M:
        return int(graph.seg_b[snap.segment])
    return None


def _sources(graph, snap: Snap) -> dict[int, float]:
    """Graph nodes reachable from *snap* along its own segment, with the distance driven."""
    node = _at_node(graph, snap)
    if node is not None:
        return {node: 0.0}  # every edge leaving the node is open, so the node alone will do
    seg = snap.segment
    length = float(graph.seg_length[seg])
    out: dict[int, float] = {}
    if graph.seg_forward[seg]:
        out[int(graph.seg_b[seg])] = (1.0 - snap.t) * length
    if graph.seg_backward[seg]:
        out[int(graph.seg_a[seg])] = snap.t * length
    return out


def _targets(graph, snap: Snap) -> dict[int, float]:
    """Graph nodes from which *snap* is reached along its own segment, with the distance left."""
    node = _at_node(graph, snap)
    if node is not None:
        return {node: 0.0}
    seg = snap.segment
    length = float(graph.seg_length[seg])
    out: dict[int, float] = {}
    if graph.seg_forward[seg]:
        out[int(graph.seg_a[seg])] = snap.t * length
    if graph.seg_backward[seg]:
        out[int(graph.seg_b[seg])] = (1.0 - snap.t) * length
    return out


def _direct(graph, start: Snap, end: Snap) -> float:
    """Length driven from *start* to *end* without leaving their shared segment, else inf."""
    if start.segment != end.segment:
        return _INF
    seg = start.segment
    along = (end.t - start.t) * float(graph.seg_length[seg])
    if abs(along) <= _NODE_EPS_M:
        return 0.0
    allowed = graph.seg_forward[seg] if along > 0 else graph.seg_backward[seg]
    return abs(along) if allowed else _INF


def shortest_leg(graph, start: Snap, end: Snap) -> "tuple[float, list[int]] | None":
    """The shortest drivable way from *start* to *end* by A*: ``(length, graph nodes on it)``.

    The node list is empty when the leg stays on one segment; ``None`` if *end* cannot be
    reached from *start*.
    """
    indptr, indices, weights, xs, ys = graph.adjacency_lists
    gx, gy = end.x, end.y
    targets = _targets(graph, end)
    best = _direct(graph, start, end)
    best_node = -1
    dist: dict[int, float] = {}
    prev: dict[int, int] = {}
    heap: list[tuple[float, float, int]] = []
    for node, g in _sources(graph, start).items():
        dist[node] = g
        prev[node] = -1
        heap.append((g + math.hypot(xs[node] - gx, ys[node] - gy), g, node))
    heapq.heapify(heap)
    pop, push, hypot = heapq.heappop, heapq.heappush, math.hypot
    while heap:
        f, g, u = pop(heap)
        if f >= best:
            break
        if g > dist[u]:
            continue  # a stale entry: u was reached more cheaply since
        extra = targets.get(u)
        if extra is not None and g + extra < best:
            best, best_node = g + extra, u
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            ng = g + weights[e]
            if ng < dist.get(v, _INF):
                dist[v] = ng
                prev[v] = u
                push(heap, (ng + hypot(xs[v] - gx, ys[v] - gy), ng, v))
    if best == _INF:
        return None
    path: list[int] = []
    node = best_node
    while node != -1:
        path.append(node)
        node = prev[node]
    path.reverse()
    return best, path


def leg_lengths(graph, start: Snap, ends: list[Snap], bound: float) -> list[float]:
    """Drivable distance from *start* to each of *ends* (inf beyond *bound* m or unreachable).

    One bounded Dijkstra search serves every end: used where many short legs are compared.
    """
    indptr, indices, weights, _, _ = graph.adjacency_lists
    result = [_direct(graph, start, end) for end in ends]
    wanted: dict[int, list[tuple[int, float]]] = {}
    for j, end in enumerate(ends):
        for node, extra in _targets(graph, end).items():
            wanted.setdefault(node, []).append((j, extra))
    dist = dict(_sources(graph, start))
    heap = [(g, node) for node, g in dist.items()]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        g, u = pop(heap)
        # Past the bound, or no end can still get shorter (extras are never negative).
        if g > bound or g >= max(result):
            break
        if g > dist[u]:
            continue
        for j, extra in wanted.get(u, ()):
            result[j] = min(result[j], g + extra)
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            ng = g + weights[e]
            if ng < dist.get(v, _INF):
                dist[v] = ng
                push(heap, (ng, v))
    return [r if r <= bound else _INF for r in result]


def leg_polyline(graph, start: Snap, end: Snap, nodes: list[int]) -> np.ndarray:
    """The (K, 2) polyline of a leg: the start snap, the nodes' positions, the end snap."""
    points = np.empty((len(nodes) + 2, 2))
    points[0] = start.x, start.y
    points[1:-1] = graph.xy[nodes]
    points[-1] = end.x, end.y
    return points


# ---- routes through waypoints ---------------------------------------------------------------


def route_waypoints(
    graph,
    waypoints_xy,
    *,
    waypoints_latlon=None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    data_box=None,
) -> Route:
    """The shortest drivable route through *waypoints_xy* ((K, 2) projected metres) in order.

    *waypoints_latlon* ((K, 2) degrees) is only used to name waypoints in errors.
    *data_box*, a :class:`.clip_box.ClipBox` in metres (or a lat/lon
    :class:`.osm_model.Bounds`, which needs *waypoints_latlon*), is the area the map data
    covers; waypoints outside it are refused. Raises :class:`.errors.RouteError` naming the
    waypoint (1-based) for: fewer than 2 waypoints, a waypoint outside the data, one farther
    than *max_snap_m* from any drivable road, a leg with no drivable path, and a route of
    zero length. Consecutive identical waypoints are allowed.
    """
    max_snap_m = float(max_snap_m)
    if not (math.isfinite(max_snap_m) and max_snap_m > 0):
        raise SettingsError("max_snap_m", f"must be a positive number of metres, got {max_snap_m}")
    points = np.asarray(waypoints_xy, dtype=np.float64).reshape(-1, 2)
    latlon = None
    if waypoints_latlon is not None:
        latlon = np.asarray(waypoints_latlon, dtype=np.float64).reshape(-1, 2)
        if len(latlon) != len(points):
            raise ValueError(f"{len(latlon)} lat/lon waypoints for {len(points)} xy waypoints")

    def name(k: int) -> str:
        if latlon is not None:
            return f"waypoint {k + 1} ({_deg(latlon[k, 0])}, {_deg(latlon[k, 1])})"
        return f"waypoint {k + 1} (x={points[k, 0]:.1f} m, y={points[k, 1]:.1f} m)"

    _check_waypoints(graph, points, latlon, data_box, name)
    options = []
    for k, (x, y) in enumerate(points):
        found = snap_candidates(graph, x, y, max_snap_m, limit=SNAP_ALTERNATIVES)
        if not found:
            nearest = graph.nearest_distance(x, y)
            raise RouteError(
                f"{name(k)} is {_metres(nearest)} from the nearest drivable road, more than "
                f"the {_metres(max_snap_m)} allowed: move it onto a road or allow a larger "
                "snapping distance",
                waypoint=k + 1,
            )
        options.append(found)

    snaps = [options[0][0]]
    pieces: list[np.ndarray] = []
    node_pieces: list[list[int]] = []
    length = 0.0
    for k in range(len(points) - 1):
        # The nearest road may be a fragment the network does not reach (a private lane's
        # end, a road cut by the map's edge): then a farther road within reach will do.
        starts = options[0] if k == 0 else [snaps[k]]
        leg = next(
            (
                (start, end, found)
                for start in starts
                for end in options[k + 1]
                if (found := shortest_leg(graph, start, end)) is not None
            ),
            None,
        )
        if leg is None:
            raise RouteError(
                f"no drivable path from {name(k)} to {name(k + 1)}: the roads there are not "
                "connected for cars (oneway streets or non-drivable paths?)",
                waypoint=k + 1,
            )
        start, end, (leg_length, leg_nodes) = leg
        snaps[k] = start
        snaps.append(end)
        length += leg_length
        node_pieces.append(leg_nodes)
        pieces.append(leg_polyline(graph, start, end, leg_nodes)[1:])
    pieces.insert(0, np.array([[snaps[0].x, snaps[0].y]]))
    if length <= _NODE_EPS_M:
        raise RouteError(
            f"the route has zero length: all {len(snaps)} waypoints snap to the same point on "
            f"the road near {name(0)}"
        )
    xy, index = _join(pieces)
    nodes = [n for piece in node_pieces for n in piece]
    return Route(
        xy=xy,
        length_m=float(np.hypot(*np.diff(xy, axis=0).T).sum()),
        node_rows=_dedupe_ints(graph.node_rows[np.asarray(nodes, dtype=np.int64)]),
        waypoint_snaps=np.array([s.distance for s in snaps]),
        waypoint_index=index,
    )


def _check_waypoints(graph, points, latlon, data_box, name) -> None:
    """Refuse too few waypoints, ones without a position or outside the data, and no roads."""
    if len(points) < 2:
        raise RouteError(f"a route needs at least 2 waypoints, got {len(points)}")
    for k in range(len(points)):
        if not np.all(np.isfinite(points[k])):
            raise RouteError(f"{name(k)} has no valid position", waypoint=k + 1)
        outside = _outside_data(data_box, points[k], None if latlon is None else latlon[k])
        if outside:
            raise RouteError(f"{name(k)} lies outside the map data{outside}", waypoint=k + 1)
    if graph.segment_count == 0:
        raise RouteError("the map data has no drivable roads (no highway a car may use)")


def _join(pieces: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate polylines, dropping consecutive duplicates; index of each piece's last point."""
    xy = np.concatenate(pieces)
    ends = np.cumsum([len(p) for p in pieces]) - 1
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
    new_index = np.cumsum(keep) - 1
    return xy[keep], new_index[ends].astype(np.int64)


def _dedupe_ints(values: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return values
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _outside_data(data_box, xy: np.ndarray, latlon: "np.ndarray | None") -> str:
    """'' if the point is inside *data_box* (or there is none), else how far outside it is."""
    if data_box is None:
        return ""
    if hasattr(data_box, "min_lat"):  # an osm_model.Bounds: compare in degrees
        if latlon is None or data_box.contains(float(latlon[0]), float(latlon[1])):
            return ""
        return (
            f" (the file covers latitude {_deg(data_box.min_lat)}..{_deg(data_box.max_lat)}, "
            f"longitude {_deg(data_box.min_lon)}..{_deg(data_box.max_lon)})"
        )
    dx = max(data_box.min_x - xy[0], 0.0, xy[0] - data_box.max_x)
    dy = max(data_box.min_y - xy[1], 0.0, xy[1] - data_box.max_y)
    if dx == 0 and dy == 0:
        return ""
    return f": it is {_metres(math.hypot(dx, dy))} beyond the edge of the area the file covers"


def _deg(value: float) -> str:
    """Degrees with up to 6 decimals (about 0.1 m), without trailing zeros."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _metres(value: float) -> str:
    return f"{value / 1000:.1f} km" if value >= 10_000 else f"{value:.0f} m"


# ---- the CLI's --route text -----------------------------------------------------------------


def parse_waypoints(text: str, setting: str = "--route") -> list[tuple[float, float]]:
    """Parse ``"lat,lon;lat,lon;..."`` into (lat, lon) pairs in degrees.

    Spaces are allowed anywhere and a trailing ``;`` is ignored. Raises
    :class:`.errors.SettingsError` for *setting* naming the bad waypoint (1-based) and what
    is wrong with it, or if fewer than 2 waypoints are given.
    """
    items = str(text).split(";")
    if items and not strip_ascii(items[-1]):
        items.pop()
    waypoints = []
    for k, raw in enumerate(items, start=1):
        item = strip_ascii(raw)
        if not item:
            raise SettingsError(setting, f"waypoint {k} is empty (two ';' in a row?)")
        parts = [strip_ascii(p) for p in item.split(",")]
        if len(parts) != 2:
            raise SettingsError(
                setting,
                f"waypoint {k} {item!r} is not two numbers 'lat,lon' "
                f"({len(parts)} comma-separated values)",
            )
        values = []
        for label, part in zip(("latitude", "longitude"), parts, strict=True):
            try:
                value = parse_decimal(part)  # ASCII digits only: no 1_0, nan or other scripts
            except NumberError as error:
                raise SettingsError(setting, f"waypoint {k} {item!r}: {label} {error}") from None
            values.append(value)
        lat, lon = values
        if not -90.0 <= lat <= 90.0:
            hint = " (latitude and longitude swapped?)" if -90 <= lon <= 90 else ""
            raise SettingsError(
                setting, f"waypoint {k} {item!r}: latitude {lat:g} is outside -90..90{hint}"
            )
        if not -180.0 <= lon <= 180.0:
            raise SettingsError(
                setting, f"waypoint {k} {item!r}: longitude {lon:g} is outside -180..180"
            )
        waypoints.append((lat, lon))
    if len(waypoints) < 2:
        raise SettingsError(
            setting, f"a route needs at least 2 waypoints 'lat,lon;lat,lon', got {len(waypoints)}"
        )
    return waypoints
