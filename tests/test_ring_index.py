"""Point-in-ring tests in bounded memory: the same answers as the direct test, far less memory."""

import tracemalloc

import numpy as np
import pytest
from helpers.big_rings import circle, comb

from leanroute.route.ring_index import RingIndex, points_in_polygon
from leanroute.route.ring_nesting import MAX_VOTERS, assign_inner_rings

pytestmark = pytest.mark.binary_compatible

MIB = 1 << 20


def direct_even_odd(points, polygon) -> np.ndarray:
    """The textbook test: every point against every edge at once (what the index replaces)."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    polygon = np.asarray(polygon, np.float64).reshape(-1, 2)
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    px, py = points[:, 0:1], points[:, 1:2]
    crosses = (y0 > py) != (y1 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
    return np.count_nonzero(crosses & (px < x_at), axis=1) % 2 == 1


def traced_peak(function) -> tuple[object, int]:
    """What *function* returns, and the most memory numpy and Python held meanwhile."""
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_index_answers_as_the_direct_test_on_random_rings():
    rng = np.random.default_rng(19)
    for trial in range(150):
        size = int(rng.integers(3, 300))
        if trial % 3 == 0:  # integer corners: many horizontal edges, points on vertices
            ring = rng.integers(0, 10, (size, 2)).astype(float)
            points = rng.integers(-1, 11, (400, 2)).astype(float)
        else:  # star-shaped, some rings repeating their first point
            angle = np.sort(rng.uniform(0, 2 * np.pi, size))
            radius = rng.uniform(1, 10, size)
            ring = np.column_stack((radius * np.cos(angle), radius * np.sin(angle)))
            points = rng.uniform(-12, 12, (400, 2))
        if trial % 5 == 0:
            ring = np.vstack((ring, ring[:1]))
        points = np.vstack((points, ring))
        assert (points_in_polygon(points, ring) == direct_even_odd(points, ring)).all(), trial


def test_several_rings_are_even_odd_together():
    outer, hole = np.array(circle(64, 10.0)), np.array(circle(64, 5.0, clockwise=True))
    index = RingIndex([outer, hole])
    assert index.contains([(7.5, 0), (0, 0), (20, 0), (0, -7.5)]).tolist() == [
        True,
        False,
        False,
        True,
    ]


def test_a_12k_point_courtyard_in_a_12k_node_ring_stays_small():
    # The direct test makes (12,000 x 12,000) temporaries: 1.1 GB each, 2.5 GiB at its peak.
    ring = np.array(circle(12000, 150.0))
    points = np.array(circle(12000, 75.0))
    inside, peak = traced_peak(lambda: points_in_polygon(points, ring))
    assert inside.all()
    assert peak < 48 * MIB, peak
    outside, _ = traced_peak(lambda: points_in_polygon(points * 3, ring))
    assert not outside.any()


def test_a_comb_a_line_crosses_thousands_of_times_stays_bounded_too():
    # Every horizontal line crosses 12,000 of its edges: the pairs are many, their chunks small.
    ring = np.array(comb(6000, width=600.0))
    points = np.column_stack((np.linspace(-299.9, 299.9, 1000), np.zeros(1000)))
    inside, peak = traced_peak(lambda: points_in_polygon(points, ring))
    assert peak < 48 * MIB, peak
    assert 0 < inside.mean() < 1  # in teeth and in gaps
    assert inside[::4].tolist() == direct_even_odd(points[::4], ring).tolist()


def test_inner_rings_go_to_the_smallest_outer_holding_most_of_them():
    big, small = np.array(circle(400, 100.0)), np.array(circle(300, 40.0, 30.0, 0.0))
    far = np.array(circle(8, 5.0, 500.0, 0.0))
    inners = [
        np.array(circle(100, 10.0, 30.0, 0.0, clockwise=True)),  # inside both: the small one
        np.array(circle(100, 10.0, -60.0, 0.0, clockwise=True)),  # inside the big one only
        np.array(circle(100, 10.0, 300.0, 0.0, clockwise=True)),  # inside none
        np.array(circle(4, 1.0, 500.0, 0.0, clockwise=True)),  # inside the far one
    ]
    assert assign_inner_rings([big, small, far], inners).tolist() == [1, 0, -1, 2]


def test_huge_rings_and_many_rings_are_assigned_in_bounded_memory():
    outer = np.array(circle(12000, 150.0))
    inner = np.array(circle(12000, 75.0, clockwise=True))
    owners, peak = traced_peak(lambda: assign_inner_rings([outer], [inner]))
    assert owners.tolist() == [0]
    assert peak < 48 * MIB, peak
    # 2,000 buildings of one relation, each with its courtyard: no 2,000 x 2,000 comparisons.
    centres = [(13.0 * (k % 45), 13.0 * (k // 45)) for k in range(2000)]
    outers = [np.array(circle(8, 5.0, x, y)) for x, y in centres]
    inners = [np.array(circle(4, 2.0, x, y, clockwise=True)) for x, y in reversed(centres)]
    owners, peak = traced_peak(lambda: assign_inner_rings(outers, inners))
    assert owners.tolist() == list(range(1999, -1, -1))
    assert peak < 48 * MIB, peak


def test_a_ring_longer_than_the_voters_is_judged_by_an_even_sample():
    outer = np.array(circle(64, 100.0))
    # Three quarters of its points inside, a quarter poking out: still inside.
    inner = np.array(circle(4 * MAX_VOTERS, 50.0, clockwise=True))
    inner[: len(inner) // 4] *= 3.0
    assert assign_inner_rings([outer], [inner]).tolist() == [0]
