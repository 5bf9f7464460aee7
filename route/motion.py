"""Car and chase-camera motion along a route polyline, one sample per frame (plain numpy, no bpy).

The car moves at constant speed: at frame ``frame_start + k`` it has covered
``min(speed x k / fps, length)`` metres of the route, so the last frame lands exactly on the
route's end. Its heading is the direction of the chord across a window of ``turn_smoothing_m``
metres centred on the car, which turns the car gradually through a corner instead of snapping
at the corner node. Headings are radians, ``atan2(dy, dx)`` (0 = +x, counter-clockwise), unwrapped
so keyframes never jump by 2 pi.
"""

import math
from dataclasses import dataclass

import numpy as np

from .errors import RouteError, SettingsError

#: A route shorter than this (m) cannot be driven.
MIN_ROUTE_LENGTH = 1.0


@dataclass(frozen=True)
class CarMotion:
    """Per-frame samples of the car: ``frames`` (K,) int, ``positions`` (K, 3) m, ``headings`` (K,).

    ``distances`` (K,) is the arc length covered at each frame; ``frame_end`` the last frame.
    """

    frames: np.ndarray
    positions: np.ndarray
    headings: np.ndarray
    length_m: float
    frame_end: int
    distances: np.ndarray
    speed_mps: float
    fps: float


@dataclass(frozen=True)
class CameraPath:
    """Per-frame camera ``positions`` (K, 3) and the points it looks at, ``targets`` (K, 3)."""

    positions: np.ndarray
    targets: np.ndarray


def _positive(name: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingsError(name, f"must be a positive number, not {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise SettingsError(name, f"must be a positive number, not {value!r}")
    return number


def route_polyline(route_xy) -> tuple[np.ndarray, np.ndarray]:
    """``(points (M, 2), cumulative arc length (M,))`` of a route, repeated points removed.

    Raises RouteError for fewer than two points, non-finite values or a route shorter than
    :data:`MIN_ROUTE_LENGTH`.
    """
    points = np.asarray(route_xy, np.float64)
    if points.ndim != 2 or points.shape[1] < 2 or len(points) < 2:
        raise RouteError(f"a route needs at least 2 points (M, 2), got shape {points.shape}")
    points = points[:, :2]
    if not np.isfinite(points).all():
        raise RouteError("the route has non-finite coordinates")
    keep = np.ones(len(points), bool)
    keep[1:] = np.any(points[1:] != points[:-1], axis=1)
    points = points[keep]
    steps = np.hypot(*np.diff(points, axis=0).T) if len(points) > 1 else np.zeros(0)
    distance = np.concatenate(([0.0], np.cumsum(steps)))
    if distance[-1] < MIN_ROUTE_LENGTH:
        raise RouteError(
            f"the route is {distance[-1]:.2f} m long; it must be at least {MIN_ROUTE_LENGTH:g} m"
        )
    return points, distance


def _point_at(points: np.ndarray, distance: np.ndarray, s: np.ndarray) -> np.ndarray:
    return np.stack(
        (np.interp(s, distance, points[:, 0]), np.interp(s, distance, points[:, 1])), axis=1
    )


def car_motion(
    route_xy,
    *,
    speed_mps: float,
    fps: float,
    frame_start: int = 1,
    turn_smoothing_m: float = 10.0,
) -> CarMotion:
    """Sample a car driving *route_xy* (M, 2) metres at *speed_mps*, one sample per frame.

    Frames run from *frame_start* to ``frame_start + ceil(length / speed * fps)``. Positions lie
    on the route at z = 0. Headings follow the chord across *turn_smoothing_m* metres around
    the car (0: the direction of the segment under the car, which snaps at corners).
    """
    speed = _positive("speed_mps", speed_mps)
    rate = _positive("fps", fps)
    smoothing = float(turn_smoothing_m)
    if not (math.isfinite(smoothing) and smoothing >= 0):
        raise SettingsError("turn_smoothing_m", f"must be 0 or more metres, not {turn_smoothing_m}")
    points, distance = route_polyline(route_xy)
    length = float(distance[-1])

    count = math.ceil(length / speed * rate) + 1
    frames = int(frame_start) + np.arange(count, dtype=np.int64)
    covered = np.minimum(np.arange(count) * (speed / rate), length)
    covered[-1] = length  # land exactly on the end whatever the rounding
    positions = np.zeros((count, 3))
    positions[:, :2] = _point_at(points, distance, covered)

    # Direction of the segment under the car: the fallback where the chord has no length.
    segment = np.clip(np.searchsorted(distance, covered, side="right") - 1, 0, len(points) - 2)
    direction = points[segment + 1] - points[segment]
    if smoothing > 0:
        ahead = _point_at(points, distance, np.minimum(covered + smoothing / 2, length))
        behind = _point_at(points, distance, np.maximum(covered - smoothing / 2, 0.0))
        chord = ahead - behind
        usable = np.hypot(chord[:, 0], chord[:, 1]) > 1e-6 * max(smoothing, 1.0)
        direction = np.where(usable[:, None], chord, direction)
    headings = np.unwrap(np.arctan2(direction[:, 1], direction[:, 0]))
    return CarMotion(
        frames=frames,
        positions=positions,
        headings=headings,
        length_m=length,
        frame_end=int(frames[-1]),
        distances=covered,
        speed_mps=speed,
        fps=rate,
    )


def chase_camera(
    motion: CarMotion,
    *,
    distance: float = 12.0,
    height: float = 6.0,
    lag_frames: float = 8,
    target_height: float = 1.0,
) -> CameraPath:
    """A camera *distance* metres behind and *height* above the car, looking at the car.

    "Behind" follows the car's heading smoothed by an exponential moving average with a time
    constant of *lag_frames* (0: no lag), so the camera swings round a corner after the car
    instead of with it; its horizontal distance to the car stays *distance*. Targets are the
    car's positions raised by *target_height*.
    """
    for name, value in (("distance", distance), ("lag_frames", lag_frames)):
        if not (math.isfinite(value) and value >= 0):
            raise SettingsError(name, f"must be 0 or more, not {value}")
    if not (math.isfinite(height) and math.isfinite(target_height)):
        raise SettingsError("height", "must be finite")
    # Recursive filter: a Python loop over floats, cheap even for an hour of frames.
    alpha = 1.0 / (1.0 + float(lag_frames))
    lagged = np.empty(len(motion.headings))
    current = float(motion.headings[0]) if len(motion.headings) else 0.0
    for index, heading in enumerate(motion.headings.tolist()):
        current += alpha * (heading - current)
        lagged[index] = current

    positions = motion.positions.copy()
    positions[:, 0] -= distance * np.cos(lagged)
    positions[:, 1] -= distance * np.sin(lagged)
    positions[:, 2] += height
    targets = motion.positions.copy()
    targets[:, 2] += target_height
    return CameraPath(positions, targets)
