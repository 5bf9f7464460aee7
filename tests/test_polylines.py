"""Packed polylines: repeated points and per-line splits (plain numpy)."""

import numpy as np

from leanroute.route.polylines import moved, split_lines, without_repeats


def test_without_repeats_drops_points_equal_to_the_one_before():
    xy = np.array([[0, 0], [0, 0], [1, 0], [1, 0], [1, 1], [0, 0]], np.float64)
    assert without_repeats(xy).tolist() == [[0, 0], [1, 0], [1, 1], [0, 0]]
    assert without_repeats(np.zeros((0, 2))).shape == (0, 2)
    assert without_repeats(np.ones((1, 2))).tolist() == [[1, 1]]


def test_a_line_s_first_point_is_kept_even_when_it_repeats_the_last_line_s_end():
    points = np.array([[0, 0], [1, 0], [1, 0], [1, 0], [2, 0], [2, 0]], np.float64)
    line_of = np.array([0, 0, 0, 1, 1, 2])
    keep = moved(points, line_of)
    assert keep.tolist() == [True, True, False, True, True, True]
    lines, sizes = split_lines(points[keep], line_of[keep], 4)
    assert sizes.tolist() == [2, 2, 1, 0]
    assert [line.tolist() for line in lines] == [[[0, 0], [1, 0]], [[1, 0], [2, 0]], [[2, 0]], []]
