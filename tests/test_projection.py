"""LocalProjection: distances against geodesics, round trips, orientation, vectorisation."""

import numpy as np
import pytest

from leanroute.route.projection import LocalProjection, centre_of


def _geodesic():
    # Imported when used: the module lane has it (a test dependency); the binary lane's
    # Blender only collects this file.
    from geographiclib.geodesic import Geodesic

    return Geodesic.WGS84


CENTRES = [(0.0, 10.0), (38.7, -9.14), (52.5, 13.4), (70.0, 25.0)]


def _random_points(rng, lat0, lon0, count, radius_m=20_000.0):
    """*count* (lat, lon) points uniformly within *radius_m* of the centre (geodesically)."""
    points = []
    for azimuth, distance in zip(
        rng.uniform(0, 360, count), radius_m * np.sqrt(rng.uniform(0, 1, count)), strict=True
    ):
        hit = _geodesic().Direct(lat0, lon0, azimuth, distance)
        points.append((hit["lat2"], hit["lon2"]))
    return np.array(points)


@pytest.mark.parametrize(("lat0", "lon0"), CENTRES)
def test_distances_match_geodesics_within_20_km(lat0, lon0):
    rng = np.random.default_rng(int(lat0 * 10))
    projection = LocalProjection(lat0, lon0)
    a = _random_points(rng, lat0, lon0, 300)
    b = _random_points(rng, lat0, lon0, 300)
    ax, ay = projection.forward(a[:, 0], a[:, 1])
    bx, by = projection.forward(b[:, 0], b[:, 1])
    projected = np.hypot(bx - ax, by - ay)
    true = np.array(
        [_geodesic().Inverse(*p, *q)["s12"] for p, q in zip(a, b, strict=True)], dtype=np.float64
    )
    relative = np.abs(projected / true - 1)
    # The requirement is 0.1 %; a transverse Mercator's scale at 20 km off its meridian is
    # 1 + 4.9e-6, so anything above 1e-5 would be a bug, not the projection.
    assert relative.max() < 1e-5
    assert relative.max() < 1e-3


@pytest.mark.parametrize(("lat0", "lon0"), CENTRES)
def test_round_trip_is_under_a_millimetre(lat0, lon0):
    rng = np.random.default_rng(7)
    projection = LocalProjection(lat0, lon0)
    # Well beyond a city too: the Krüger series is good to thousands of kilometres.
    for radius in (20_000.0, 200_000.0):
        points = _random_points(rng, lat0, lon0, 200, radius)
        x, y = projection.forward(points[:, 0], points[:, 1])
        lat, lon = projection.inverse(x, y)
        x2, y2 = projection.forward(lat, lon)
        assert np.max(np.hypot(x2 - x, y2 - y)) < 1e-3
        back = np.array(
            [
                _geodesic().Inverse(*p, la, lo)["s12"]
                for p, la, lo in zip(points, lat, lon, strict=True)
            ]
        )
        assert back.max() < 1e-3


@pytest.mark.parametrize(("lat0", "lon0"), CENTRES)
def test_centre_is_origin_and_scale_there_is_one(lat0, lon0):
    projection = LocalProjection(lat0, lon0)
    x, y = projection.forward(lat0, lon0)
    assert abs(float(x)) < 1e-9 and abs(float(y)) < 1e-9
    for azimuth in (0.0, 45.0, 90.0, 200.0):
        hit = _geodesic().Direct(lat0, lon0, azimuth, 10.0)
        x, y = projection.forward(hit["lat2"], hit["lon2"])
        assert float(np.hypot(x, y)) == pytest.approx(10.0, rel=1e-8)


def test_x_is_east_and_y_is_north():
    projection = LocalProjection(48.4, 15.6)
    x, y = projection.forward(48.41, 15.6)
    assert float(y) > 1000 and abs(float(x)) < 1e-6
    x, y = projection.forward(48.4, 15.61)
    assert float(x) > 700 and abs(float(y)) < 1.0  # a parallel curves slightly away from north


def test_arrays_keep_their_shape_and_points_helpers_round_trip():
    projection = LocalProjection(52.5, 13.4)
    lat = np.full((3, 4), 52.51)
    lon = np.linspace(13.3, 13.5, 12).reshape(3, 4)
    x, y = projection.forward(lat, lon)
    assert x.shape == y.shape == (3, 4)
    latlon = np.column_stack((lat.ravel(), lon.ravel()))
    xy = projection.forward_points(latlon)
    assert xy.shape == (12, 2)
    np.testing.assert_allclose(projection.inverse_points(xy), latlon, atol=1e-9)


def test_antimeridian():
    projection = LocalProjection(-17.0, 179.95)
    x, y = projection.forward(-17.0, -179.95)  # 0.1 degree further east
    assert float(x) == pytest.approx(10_648, rel=0.001)
    _, lon = projection.inverse(x, y)
    assert float(lon) == pytest.approx(-179.95, abs=1e-9)


def test_bad_centre_is_refused():
    with pytest.raises(ValueError, match="latitude"):
        LocalProjection(90.0, 0.0)
    with pytest.raises(ValueError, match="longitude"):
        LocalProjection(0.0, float("nan"))


def test_centre_of():
    assert centre_of([(48.0, 15.0), (49.0, 16.0), (48.5, 15.2)]) == pytest.approx((48.5, 15.5))
    assert centre_of(np.array([[10.0, 179.0], [12.0, -179.0]])) == pytest.approx((11.0, -180.0))
    with pytest.raises(ValueError):
        centre_of([])
