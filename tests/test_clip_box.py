"""ClipBox: the box around a route, point tests and polyline clipping."""

import itertools

import numpy as np
import pytest

from leanroute.route.clip_box import ClipBox
from leanroute.route.errors import SettingsError
from leanroute.route.osm_model import Bounds
from leanroute.route.projection import LocalProjection

BOX = ClipBox(0.0, 0.0, 10.0, 5.0)


def test_around_adds_padding_and_size():
    box = ClipBox.around(np.array([[1.0, 2.0], [4.0, -3.0], [2.0, 0.0]]), padding=10)
    assert box == ClipBox(-9.0, -13.0, 14.0, 12.0)
    assert box.size == (23.0, 25.0)
    assert box.as_tuple() == (-9.0, -13.0, 14.0, 12.0)
    assert box.centre == (2.5, -0.5)
    assert ClipBox.around([[1.0, 1.0]]).size == (0.0, 0.0)


@pytest.mark.parametrize("padding", [-1.0, float("nan"), float("inf")])
def test_around_refuses_bad_padding(padding):
    with pytest.raises(SettingsError, match="padding") as caught:
        ClipBox.around([[0.0, 0.0]], padding)
    assert caught.value.setting == "padding"


def test_box_must_be_ordered():
    with pytest.raises(ValueError):
        ClipBox(1.0, 0.0, 0.0, 1.0)


def test_contains_includes_edges():
    points = np.array([[0, 0], [10, 5], [5, 2.5], [-0.01, 1], [5, 5.01]])
    assert BOX.contains(points).tolist() == [True, True, True, False, False]
    assert bool(BOX.contains(np.array([3.0, 3.0])))


def test_polyline_inside_is_kept_whole():
    line = np.array([[1.0, 1.0], [2.0, 2.0], [2.0, 2.0], [9.0, 4.0]])
    (piece,) = BOX.clip_polyline(line)
    np.testing.assert_array_equal(piece, [[1, 1], [2, 2], [9, 4]])


def test_polyline_outside_gives_nothing():
    assert BOX.clip_polyline(np.array([[-5.0, -5.0], [-1.0, 20.0], [20.0, 20.0]])) == []
    assert BOX.clip_polyline(np.array([[1.0, 1.0]])) == []


def test_crossing_points_are_inserted():
    line = np.array([[-5.0, 1.0], [5.0, 1.0], [5.0, 10.0]])
    (piece,) = BOX.clip_polyline(line)
    np.testing.assert_allclose(piece, [[0, 1], [5, 1], [5, 5]])


def test_leaving_and_coming_back_gives_two_pieces():
    line = np.array([[1.0, 1.0], [1.0, 8.0], [8.0, 8.0], [8.0, 1.0], [12.0, 1.0]])
    pieces = BOX.clip_polyline(line)
    assert len(pieces) == 2
    np.testing.assert_allclose(pieces[0], [[1, 1], [1, 5]])
    np.testing.assert_allclose(pieces[1], [[8, 5], [8, 1], [10, 1]])


def test_segment_crossing_the_whole_box():
    (piece,) = BOX.clip_polyline(np.array([[-10.0, -2.5], [20.0, 12.5]]))
    np.testing.assert_allclose(piece, [[0, 2.5], [5, 5]])


def test_touching_a_corner_only_is_dropped():
    assert BOX.clip_polyline(np.array([[-1.0, 6.0], [1.0, 4.0]])) != []
    assert BOX.clip_polyline(np.array([[-1.0, 1.0], [1.0, -1.0]])) == []  # through (0, 0)


def test_running_along_an_edge_counts_as_inside():
    (piece,) = BOX.clip_polyline(np.array([[-2.0, 0.0], [12.0, 0.0]]))
    np.testing.assert_allclose(piece, [[0, 0], [10, 0]])


def test_random_polylines_stay_inside_and_keep_the_inside_length():
    rng = np.random.default_rng(3)
    for _ in range(50):
        line = rng.uniform(-5, 15, (20, 2))
        pieces = BOX.clip_polyline(line)
        for piece in pieces:
            assert len(piece) >= 2
            assert np.all(piece >= [-1e-9, -1e-9]) and np.all(piece <= [10 + 1e-9, 5 + 1e-9])
            assert np.all(np.any(piece[1:] != piece[:-1], axis=1))
        clipped = sum(np.hypot(*np.diff(p, axis=0).T).sum() for p in pieces)
        # Reference: the share of finely sampled points inside, per segment.
        t = np.linspace(0, 1, 4001)[:, None]
        expected = 0.0
        for a, b in itertools.pairwise(line):
            samples = a + t * (b - a)
            expected += np.hypot(*(b - a)) * BOX.contains(samples).mean()
        assert clipped == pytest.approx(expected, abs=0.05)


def test_from_bounds_holds_the_projected_box():
    bounds = Bounds(48.3874372, 15.599556, 48.4141629, 15.6711388)
    projection = LocalProjection.for_bounds(bounds)
    box = ClipBox.from_bounds(bounds, projection)
    lat = np.linspace(bounds.min_lat, bounds.max_lat, 30)
    lon = np.linspace(bounds.min_lon, bounds.max_lon, 30)
    grid_lat, grid_lon = np.meshgrid(lat, lon)
    x, y = projection.forward(grid_lat.ravel(), grid_lon.ravel())
    assert box.contains(np.column_stack((x, y))).all()
    width, height = box.size
    assert width == pytest.approx(5300, rel=0.01) and height == pytest.approx(2973, rel=0.01)


def test_clip_polylines_gives_every_lines_clip_polyline_pieces():
    rng = np.random.default_rng(3)
    box = ClipBox(-100, -100, 100, 100)
    lines = []
    for index in range(600):
        line = rng.uniform(-150, 150, (int(rng.integers(0, 8)), 2)).round(0)
        if len(line) > 2 and index % 3 == 0:
            line[1] = line[0]  # a repeated point
        lines.append(line * (0.5 if index % 2 else 1.0))  # half of them well inside
    together = box.clip_polylines(lines)
    assert len(together) == len(lines)
    for line, pieces in zip(lines, together, strict=True):
        alone = box.clip_polyline(line)
        assert len(pieces) == len(alone)
        assert all(np.array_equal(a, b) for a, b in zip(pieces, alone, strict=True))
    assert box.clip_polylines([]) == []
