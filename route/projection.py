"""A local transverse Mercator projection on WGS84: latitude/longitude to metres and back.

Plain Python and numpy, no bpy. The scene is built in metres around a centre point: x east,
y north, (0, 0) at the centre. The projection is the transverse Mercator with the Krüger
series to order n^6, as in C. F. F. Karney, "Transverse Mercator with an accuracy of a few
nanometers", J. Geodesy 85 (2011) 475-485, with scale 1 on the central meridian. Within
20 km of the centre its scale differs from 1 by less than 5e-6, so lengths measured in the
scene are true lengths to a few parts per million.
"""

from collections.abc import Iterable

import numpy as np

#: WGS84 semi-major axis (metres) and flattening.
WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563

_N = WGS84_F / (2 - WGS84_F)
_E2 = WGS84_F * (2 - WGS84_F)
_E = np.sqrt(_E2)
_E2M = 1 - _E2
# Rectifying radius: 2 pi A is the length of a meridian (Karney 2011, eq. 14).
_RECT_A = WGS84_A / (1 + _N) * (1 + _N**2 / 4 + _N**4 / 64 + _N**6 / 256)


def _series(coefficients: list[list[float]]) -> np.ndarray:
    """Evaluate each row's polynomial in n; row j holds the n^1..n^6 coefficients of term j+1."""
    powers = np.array([_N**k for k in range(1, 7)])
    return np.array([np.dot(row, powers) for row in coefficients])


# Karney 2011, eq. 35: conformal latitude -> transverse Mercator (forward).
_ALPHA = _series(
    [
        [1 / 2, -2 / 3, 5 / 16, 41 / 180, -127 / 288, 7891 / 37800],
        [0, 13 / 48, -3 / 5, 557 / 1440, 281 / 630, -1983433 / 1935360],
        [0, 0, 61 / 240, -103 / 140, 15061 / 26880, 167603 / 181440],
        [0, 0, 0, 49561 / 161280, -179 / 168, 6601661 / 7257600],
        [0, 0, 0, 0, 34729 / 80640, -3418889 / 1995840],
        [0, 0, 0, 0, 0, 212378941 / 319334400],
    ]
)
# Karney 2011, eq. 36: transverse Mercator -> conformal latitude (inverse).
_BETA = _series(
    [
        [1 / 2, -2 / 3, 37 / 96, -1 / 360, -81 / 512, 96199 / 604800],
        [0, 1 / 48, 1 / 15, -437 / 1440, 46 / 105, -1118711 / 3870720],
        [0, 0, 17 / 480, -37 / 840, -209 / 4480, 5569 / 90720],
        [0, 0, 0, 4397 / 161280, -11 / 504, -830251 / 7257600],
        [0, 0, 0, 0, 4583 / 161280, -108847 / 3991680],
        [0, 0, 0, 0, 0, 20648693 / 638668800],
    ]
)
_J2 = 2 * np.arange(1, 7, dtype=np.float64)  # 2j for j = 1..6

#: Points projected at a time: big enough for numpy to run at full speed, small enough that
#: the series' temporaries stay a few tens of MB.
CHUNK_POINTS = 1 << 16


def _conformal_tau(tau: np.ndarray) -> np.ndarray:
    """Tan of the conformal latitude from tan of the geodetic latitude (Karney eq. 7-9)."""
    sigma = np.sinh(_E * np.arctanh(_E * tau / np.hypot(1.0, tau)))
    return tau * np.hypot(1.0, sigma) - sigma * np.hypot(1.0, tau)


def _geodetic_tau(tau_prime: np.ndarray) -> np.ndarray:
    """Invert :func:`_conformal_tau` by Newton's method (Karney eq. 19-21)."""
    tau = tau_prime / _E2M  # a good start: within 1e-3 relative everywhere but the poles
    for _ in range(5):  # converges to machine precision in 2-3 steps; 5 costs nothing
        tau_i = _conformal_tau(tau)
        step = (
            (tau_prime - tau_i)
            / np.hypot(1.0, tau_i)
            * (1 + _E2M * tau**2)
            / (_E2M * np.hypot(1.0, tau))
        )
        tau = tau + step
    return tau


def _forward_unit(lat_deg: np.ndarray, dlon_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(eta, xi) of the transverse Mercator on the central meridian, in units of the radius A."""
    phi = np.radians(lat_deg)
    lam = np.radians(dlon_deg)
    tau_p = _conformal_tau(np.tan(phi))
    cos_lam = np.cos(lam)
    xi_p = np.arctan2(tau_p, cos_lam)
    eta_p = np.arcsinh(np.sin(lam) / np.hypot(tau_p, cos_lam))
    # Sum over j of alpha_j sin(2j xi') cosh(2j eta') and alpha_j cos(2j xi') sinh(2j eta').
    angle_xi = xi_p[..., None] * _J2
    angle_eta = eta_p[..., None] * _J2
    xi = xi_p + np.sum(_ALPHA * np.sin(angle_xi) * np.cosh(angle_eta), axis=-1)
    eta = eta_p + np.sum(_ALPHA * np.cos(angle_xi) * np.sinh(angle_eta), axis=-1)
    return eta, xi


class LocalProjection:
    """Transverse Mercator centred on (lat0, lon0): x east, y north in metres, (0, 0) at the centre.

    The central meridian is ``lon0`` with scale 1 on it, and a false northing puts
    ``lat0`` at y = 0. Both directions take scalars or arrays (vectorised numpy).
    """

    def __init__(self, lat0: float, lon0: float):
        lat0 = float(lat0)
        lon0 = float(lon0)
        if not (np.isfinite(lat0) and -90.0 < lat0 < 90.0):
            raise ValueError(f"centre latitude must be strictly between -90 and 90, got {lat0}")
        if not (np.isfinite(lon0) and -180.0 <= lon0 <= 180.0):
            raise ValueError(f"centre longitude must be between -180 and 180, got {lon0}")
        self.lat0 = lat0
        self.lon0 = lon0
        _, xi0 = _forward_unit(np.array(lat0), np.array(0.0))
        self._y0 = float(_RECT_A * xi0)

    def __repr__(self) -> str:
        return f"LocalProjection(lat0={self.lat0!r}, lon0={self.lon0!r})"

    @classmethod
    def for_bounds(cls, bounds) -> "LocalProjection":
        """The projection centred on a :class:`~.osm_model.Bounds` box."""
        lat, lon = bounds.centre
        return cls(lat, lon)

    def _dlon(self, lon) -> np.ndarray:
        # Longitude difference wrapped into [-180, 180), so data across the antimeridian works.
        return (np.asarray(lon, dtype=np.float64) - self.lon0 + 180.0) % 360.0 - 180.0

    def forward(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        """Project degrees to metres: returns ``(x, y)`` with the shape of the inputs.

        Meant for points within a few hundred kilometres of the centre; far from it the
        series still converges (it is good to ~4000 km) but the scale grows.
        """
        lat, lon = np.broadcast_arrays(np.asarray(lat, np.float64), np.asarray(lon, np.float64))
        if lat.size <= CHUNK_POINTS:
            eta, xi = _forward_unit(lat, self._dlon(lon))
            return _RECT_A * eta, _RECT_A * xi - self._y0
        # The series makes a dozen (n, 6) temporaries: in chunks, their memory stays bounded
        # (~30 MB) however many nodes the file has, instead of ~250 bytes per node.
        x = np.empty(lat.shape, np.float64)
        y = np.empty(lat.shape, np.float64)
        flat_lat, flat_lon, flat_x, flat_y = lat.ravel(), lon.ravel(), x.reshape(-1), y.reshape(-1)
        for start in range(0, lat.size, CHUNK_POINTS):
            part = slice(start, start + CHUNK_POINTS)
            eta, xi = _forward_unit(flat_lat[part], self._dlon(flat_lon[part]))
            flat_x[part] = _RECT_A * eta
            flat_y[part] = _RECT_A * xi - self._y0
        return x, y

    def inverse(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Unproject metres to degrees: returns ``(lat, lon)`` with the shape of the inputs."""
        x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
        if x.size > CHUNK_POINTS:  # bounded temporaries, as in forward()
            lat, lon = np.empty(x.shape), np.empty(x.shape)
            flat = (x.ravel(), y.ravel(), lat.reshape(-1), lon.reshape(-1))
            for start in range(0, x.size, CHUNK_POINTS):
                part = slice(start, start + CHUNK_POINTS)
                flat[2][part], flat[3][part] = self.inverse(flat[0][part], flat[1][part])
            return lat, lon
        eta = x / _RECT_A
        xi = (y + self._y0) / _RECT_A
        angle_xi = xi[..., None] * _J2
        angle_eta = eta[..., None] * _J2
        xi_p = xi - np.sum(_BETA * np.sin(angle_xi) * np.cosh(angle_eta), axis=-1)
        eta_p = eta - np.sum(_BETA * np.cos(angle_xi) * np.sinh(angle_eta), axis=-1)
        sinh_eta = np.sinh(eta_p)
        tau_p = np.sin(xi_p) / np.hypot(sinh_eta, np.cos(xi_p))
        lam = np.arctan2(sinh_eta, np.cos(xi_p))
        lat = np.degrees(np.arctan(_geodetic_tau(tau_p)))
        lon = (self.lon0 + np.degrees(lam) + 180.0) % 360.0 - 180.0
        return lat, lon

    def forward_points(self, latlon) -> np.ndarray:
        """Project an (N, 2) array of (lat, lon) rows to an (N, 2) array of (x, y) rows."""
        latlon = np.asarray(latlon, dtype=np.float64).reshape(-1, 2)
        x, y = self.forward(latlon[:, 0], latlon[:, 1])
        return np.column_stack((x, y))

    def inverse_points(self, xy) -> np.ndarray:
        """Unproject an (N, 2) array of (x, y) rows to an (N, 2) array of (lat, lon) rows."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        lat, lon = self.inverse(xy[:, 0], xy[:, 1])
        return np.column_stack((lat, lon))


def centre_of(points: Iterable[tuple[float, float]] | np.ndarray) -> tuple[float, float]:
    """The (lat, lon) middle of the box around some (lat, lon) points: a projection centre.

    Longitudes are taken on the shorter way round, so points on both sides of the
    antimeridian give a centre near it rather than near Greenwich.
    """
    latlon = np.asarray(points if isinstance(points, np.ndarray) else list(points), np.float64)
    latlon = latlon.reshape(-1, 2)
    if len(latlon) == 0:
        raise ValueError("centre_of() needs at least one (lat, lon) point")
    lat, lon = latlon[:, 0], latlon[:, 1]
    lat_mid = (lat.min() + lat.max()) / 2
    # Unwrap longitudes around the first point, so that the box spans less than 360 degrees.
    ref = lon[0]
    unwrapped = ref + (lon - ref + 180.0) % 360.0 - 180.0
    lon_mid = (unwrapped.min() + unwrapped.max()) / 2
    lon_mid = (lon_mid + 180.0) % 360.0 - 180.0
    return float(lat_mid), float(lon_mid)
