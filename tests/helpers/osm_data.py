"""Small OsmData for tests: nodes placed in metres around an origin, and projected back."""

import math
from dataclasses import dataclass

import numpy as np

from leanroute.route.osm_model import NodeTable, OsmData

EARTH_RADIUS = 6371008.8


@dataclass(frozen=True)
class LocalMetres:
    """Equirectangular metres (x east, y north) around (*lat0*, *lon0*): exact enough at test scale.

    :meth:`make_osm` places nodes given in these metres, :meth:`project` gives them back.
    """

    lat0: float
    lon0: float

    def make_osm(self, points: dict[int, tuple[float, float]], ways=(), relations=()) -> OsmData:
        """OsmData from node positions given in metres (x east, y north)."""
        ids = np.array(sorted(points), np.int64)
        xy = np.array([points[i] for i in ids], np.float64).reshape(-1, 2)
        lat = self.lat0 + np.degrees(xy[:, 1] / EARTH_RADIUS)
        lon = self.lon0 + np.degrees(xy[:, 0] / (EARTH_RADIUS * math.cos(math.radians(self.lat0))))
        return OsmData(
            "test.osm",
            NodeTable(ids, lat, lon),
            {w.id: w for w in ways},
            {r.id: r for r in relations},
        )

    def project(self, osm: OsmData) -> np.ndarray:
        """The nodes of *osm* as (N, 2) metres, the inverse of :meth:`make_osm`."""
        x = np.radians(osm.nodes.lon - self.lon0) * EARTH_RADIUS * math.cos(math.radians(self.lat0))
        y = np.radians(osm.nodes.lat - self.lat0) * EARTH_RADIUS
        return np.stack((x, y), axis=1)
