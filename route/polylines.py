# SPDX-License-Identifier: GPL-3.0-or-later
"""Polylines as numpy arrays: repeated points, and many lines packed into one array (plain numpy).

A packed set of lines is one (N, 2) array of points with ``line_of`` (N,), the index of the
line each point belongs to, ascending: :mod:`.road_geometry` and :mod:`.clip_box` treat
thousands of lines this way with a few array operations instead of a few per line.
"""

import numpy as np


def without_repeats(xy: np.ndarray) -> np.ndarray:
    """The polyline *xy* (N, 2) without points equal to the one before them.

    Repeated points make zero-length segments, which have no direction to offset along.
    """
    return xy[moved(xy)]


def moved(points: np.ndarray, line_of: "np.ndarray | None" = None) -> np.ndarray:
    """Mask of the points that differ from the point before them in the same line.

    The first point of a line is always kept; without *line_of* the points are one line.
    """
    keep = np.ones(len(points), dtype=bool)
    keep[1:] = np.any(points[1:] != points[:-1], axis=1)
    if line_of is not None:
        keep[1:] |= line_of[1:] != line_of[:-1]
    return keep


def split_lines(points: np.ndarray, line_of: np.ndarray, count: int):
    """The packed *points* as one array per line 0 .. *count* - 1, and each line's length."""
    sizes = np.bincount(line_of, minlength=count)
    return np.split(points, np.cumsum(sizes)[:-1]), sizes
