"""Car and chase-camera motion: distance per frame, smooth headings, camera behind the car."""

import math

import numpy as np
import pytest

from leanroute.route.errors import RouteError, SettingsError
from leanroute.route.motion import CarMotion, car_motion, chase_camera

L_ROUTE = np.array([(0.0, 0.0), (100.0, 0.0), (100.0, 60.0)])


def test_the_car_covers_the_route_at_the_speed():
    motion = car_motion(L_ROUTE, speed_mps=10.0, fps=24, frame_start=5)
    assert isinstance(motion, CarMotion)
    assert motion.length_m == pytest.approx(160.0)
    count = math.ceil(160.0 / 10.0 * 24) + 1
    assert len(motion.frames) == count == 385
    assert motion.frames[0] == 5 and motion.frame_end == motion.frames[-1] == 5 + count - 1
    assert motion.positions.shape == (count, 3) and motion.headings.shape == (count,)
    assert motion.positions[0] == pytest.approx([0, 0, 0])
    assert motion.positions[-1] == pytest.approx([100, 60, 0])
    # Every frame moves the car speed / fps metres along the route.
    assert np.diff(motion.distances) == pytest.approx(np.full(count - 1, 10.0 / 24))
    assert motion.positions[24 * 5] == pytest.approx([50, 0, 0])  # 5 s at 10 m/s


def test_the_last_frame_lands_on_the_end_when_the_time_is_not_whole_frames():
    motion = car_motion([(0, 0), (10, 0)], speed_mps=3.0, fps=25)
    assert len(motion.frames) == math.ceil(10 / 3 * 25) + 1
    assert motion.distances[-1] == 10.0
    assert np.all(np.diff(motion.distances) > 0)


def test_headings_turn_smoothly_through_a_corner():
    motion = car_motion(L_ROUTE, speed_mps=10.0, fps=24, turn_smoothing_m=12.0)
    headings = motion.headings
    assert headings[0] == pytest.approx(0.0)
    assert headings[-1] == pytest.approx(math.pi / 2)
    steps = np.diff(headings)
    assert np.all(steps >= -1e-12)  # a left turn only ever turns left
    assert np.abs(steps).max() < 0.1  # ~5.7 degrees a frame at most: no snap
    at_corner = np.argmin(np.abs(motion.distances - 100.0))
    assert headings[at_corner] == pytest.approx(math.pi / 4, abs=0.05)

    snapping = car_motion(L_ROUTE, speed_mps=10.0, fps=24, turn_smoothing_m=0)
    assert np.abs(np.diff(snapping.headings)).max() == pytest.approx(math.pi / 2)


def test_headings_are_unwrapped_on_a_loop_driven_twice():
    # Counter-clockwise round a 50 m square twice: the heading climbs by 4 pi with no 2 pi jump.
    square = [(0, 0), (50, 0), (50, 50), (0, 50)]
    route = np.array([*square, *square, (0, 0), (10, 0)], float)
    motion = car_motion(route, speed_mps=15.0, fps=30)
    steps = np.diff(motion.headings)
    assert np.abs(steps).max() < 0.2
    assert motion.headings[-1] - motion.headings[0] == pytest.approx(4 * math.pi, abs=1e-6)

    # Heading west (pi) and turning right and left around it never wraps to -pi either.
    west = car_motion([(0, 0), (-50, 0), (-100, -1), (-150, 1)], speed_mps=10, fps=24)
    assert np.all(np.abs(west.headings - math.pi) < 0.2)


def test_repeated_points_and_a_hairpin_give_finite_motion():
    route = [(0, 0), (0, 0), (20, 0), (20, 0), (0.0, 0.5)]
    motion = car_motion(route, speed_mps=5, fps=24)
    assert motion.length_m == pytest.approx(20 + math.hypot(20, 0.5))
    assert np.isfinite(motion.positions).all() and np.isfinite(motion.headings).all()


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"speed_mps": 0, "fps": 24}, "speed_mps"),
        ({"speed_mps": -3, "fps": 24}, "speed_mps"),
        ({"speed_mps": float("nan"), "fps": 24}, "speed_mps"),
        ({"speed_mps": 10, "fps": 0}, "fps"),
        ({"speed_mps": 10, "fps": -24}, "fps"),
        ({"speed_mps": 10, "fps": 24, "turn_smoothing_m": -1}, "turn_smoothing_m"),
    ],
)
def test_bad_settings_name_the_setting(kwargs, setting):
    with pytest.raises(SettingsError) as caught:
        car_motion(L_ROUTE, **kwargs)
    assert caught.value.setting == setting


@pytest.mark.parametrize(
    "route",
    [[(0, 0), (0.5, 0.5)], [(3, 3), (3, 3), (3, 3)], [(0, 0)], [], [(0, 0), (float("inf"), 0)]],
)
def test_a_route_too_short_or_broken_is_refused(route):
    with pytest.raises(RouteError):
        car_motion(route, speed_mps=10, fps=24)


def test_the_camera_follows_behind_and_above_the_car():
    motion = car_motion(L_ROUTE, speed_mps=10.0, fps=24)
    camera = chase_camera(motion, distance=12.0, height=6.0, lag_frames=8)
    count = len(motion.frames)
    assert camera.positions.shape == camera.targets.shape == (count, 3)
    assert camera.targets == pytest.approx(motion.positions + np.array([0, 0, 1.0]))
    assert camera.positions[:, 2] == pytest.approx(np.full(count, 6.0))
    offset = motion.positions[:, :2] - camera.positions[:, :2]
    assert np.hypot(offset[:, 0], offset[:, 1]) == pytest.approx(np.full(count, 12.0))
    # Behind: the car is ahead of the camera along the car's own heading, at every frame.
    forward = np.stack((np.cos(motion.headings), np.sin(motion.headings)), axis=1)
    assert np.all(np.einsum("ij,ij->i", offset, forward) > 0)
    # On the first straight the camera sits exactly behind.
    assert camera.positions[10] == pytest.approx(motion.positions[10] + np.array([-12, 0, 6]))


def test_the_camera_lags_round_a_corner():
    motion = car_motion(L_ROUTE, speed_mps=10.0, fps=24)
    lagged = chase_camera(motion, lag_frames=8)
    rigid = chase_camera(motion, lag_frames=0)
    offset = motion.positions[:, :2] - lagged.positions[:, :2]
    camera_heading = np.arctan2(offset[:, 1], offset[:, 0])
    turning = (motion.headings > 0.2) & (motion.headings < 1.3)
    assert turning.any()
    assert np.all(camera_heading[turning] < motion.headings[turning])
    assert camera_heading[-1] == pytest.approx(motion.headings[-1], abs=0.01)  # caught up
    rigid_offset = motion.positions[:, :2] - rigid.positions[:, :2]
    assert np.arctan2(rigid_offset[:, 1], rigid_offset[:, 0]) == pytest.approx(motion.headings)


def test_camera_settings_are_checked():
    motion = car_motion(L_ROUTE, speed_mps=10.0, fps=24)
    with pytest.raises(SettingsError):
        chase_camera(motion, distance=-1)
    with pytest.raises(SettingsError):
        chase_camera(motion, lag_frames=-2)
