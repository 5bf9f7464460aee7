"""OpenStreetMap data as read from a file: nodes in numpy arrays, ways and relations as tuples.

Plain Python and numpy, no bpy. Produced by :mod:`.osm_parse`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Bounds:
    """A latitude/longitude box (degrees, WGS84)."""

    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        """Whether (lat, lon) lies inside the box, edges included."""
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon

    @property
    def centre(self) -> tuple[float, float]:
        """(lat, lon) of the box's middle."""
        return (self.min_lat + self.max_lat) / 2, (self.min_lon + self.max_lon) / 2


@dataclass(frozen=True)
class NodeTable:
    """Node positions: ``ids`` ascending (int64), ``lat``/``lon`` float64 in the same order."""

    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, refs) -> np.ndarray:
        """Row of each node id in *refs* (int64 array), -1 where the file lacks the node."""
        refs = np.asarray(refs, dtype=np.int64)
        if len(self.ids) == 0:
            return np.full(refs.shape, -1, dtype=np.int64)
        rows = np.searchsorted(self.ids, refs)
        rows = np.minimum(rows, len(self.ids) - 1)
        return np.where(self.ids[rows] == refs, rows, -1)

    def bounds(self) -> "Bounds | None":
        """The box around every node, or None without nodes."""
        if len(self.ids) == 0:
            return None
        return Bounds(
            float(self.lat.min()),
            float(self.lon.min()),
            float(self.lat.max()),
            float(self.lon.max()),
        )


@dataclass(frozen=True, slots=True)
class Way:
    """An OSM way: node references in order and its tags."""

    id: int
    refs: tuple[int, ...]
    tags: Mapping[str, str]

    @property
    def is_closed(self) -> bool:
        """First and last node are the same (a ring), with at least 4 references."""
        return len(self.refs) >= 4 and self.refs[0] == self.refs[-1]


@dataclass(frozen=True, slots=True)
class Member:
    """One member of a relation: ``type`` is "node", "way" or "relation"."""

    type: str
    ref: int
    role: str


@dataclass(frozen=True, slots=True)
class Relation:
    """An OSM relation: members in order and its tags."""

    id: int
    members: tuple[Member, ...]
    tags: Mapping[str, str]


def _nothing_dropped() -> dict[str, int]:
    return {"nodes": 0, "ways": 0, "relations": 0}


@dataclass
class OsmData:
    """Everything LeanRoute reads from one .osm file.

    :func:`.osm_parse.read_osm` keeps only what LeanRoute needs (:mod:`.osm_needs`): the nodes,
    ways and relations here may be fewer than the file's, and ``dropped`` counts the distinct
    ids left out of each (all zero when everything was kept). ``file_nodes`` etc. give the
    file's own counts.
    """

    path: str
    nodes: NodeTable
    ways: dict[int, Way] = field(default_factory=dict)
    relations: dict[int, Relation] = field(default_factory=dict)
    bounds: "Bounds | None" = None
    generator: str = ""
    #: Node tags are not needed for scenes; only their count is kept (of the file's nodes).
    tagged_nodes: int = 0
    #: Distinct ids read but not kept: ``{"nodes": n, "ways": n, "relations": n}``.
    dropped: dict[str, int] = field(default_factory=_nothing_dropped)

    @property
    def file_nodes(self) -> int:
        """Nodes in the file (distinct ids), kept or not."""
        return len(self.nodes) + self.dropped.get("nodes", 0)

    @property
    def file_ways(self) -> int:
        """Ways in the file (distinct ids), kept or not."""
        return len(self.ways) + self.dropped.get("ways", 0)

    @property
    def file_relations(self) -> int:
        """Relations in the file (distinct ids), kept or not."""
        return len(self.relations) + self.dropped.get("relations", 0)

    def data_bounds(self) -> "Bounds | None":
        """The ``<bounds>`` of the file if it has one, else the box around its nodes.

        Those are the kept nodes (the nodes of roads and buildings, see :mod:`.osm_needs`)
        unless the file was read with ``keep_all``.
        """
        return self.bounds or self.nodes.bounds()
