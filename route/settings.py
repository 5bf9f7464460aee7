"""What one build is asked to do: a frozen settings object passed down the pipeline (no bpy)."""

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .errors import SettingsError

LAYERS = ("roads", "buildings", "ground")


@dataclass(frozen=True)
class BuildSettings:
    """Inputs and options of one route-scene build.

    ``waypoints`` are (lat, lon) pairs; a ``gpx`` track replaces them as the route.
    ``out`` and ``report`` are optional: without ``out`` the scene is built but not saved.
    """

    osm: Path
    waypoints: tuple[tuple[float, float], ...] = ()
    gpx: "Path | None" = None
    snap_gpx: bool = True
    out: "Path | None" = None
    report: "Path | None" = None
    padding_m: float = 150.0
    speed_kmh: float = 40.0
    fps: int = 24
    frame_start: int = 1
    #: When set, the drive is timed to end on this frame and ``speed_kmh`` is not used.
    frame_end: "int | None" = None
    layers: frozenset[str] = field(default_factory=lambda: frozenset(LAYERS))
    default_height_m: float = 9.0
    car_blend: "Path | None" = None
    car_object: str = ""
    max_snap_m: float = 250.0
    collection_name: str = "LeanRoute"

    def __post_init__(self):
        object.__setattr__(self, "osm", Path(self.osm))
        for name in ("gpx", "out", "report", "car_blend"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        object.__setattr__(self, "layers", frozenset(self.layers))
        object.__setattr__(self, "waypoints", tuple(tuple(w) for w in self.waypoints))
        self.validate()

    def validate(self) -> None:
        """Refuse settings out of range, naming the setting."""
        _positive("speed_kmh", self.speed_kmh)
        _positive("fps", self.fps)
        _positive("default_height_m", self.default_height_m)
        _positive("max_snap_m", self.max_snap_m)
        if self.frame_end is not None and not self.frame_end > self.frame_start:
            raise SettingsError(
                "frame_end",
                f"must be after the first frame ({self.frame_start}), not {self.frame_end}",
            )
        if not math.isfinite(self.padding_m) or self.padding_m < 0:
            raise SettingsError("padding_m", f"must be 0 or more metres, not {self.padding_m}")
        unknown = self.layers - set(LAYERS)
        if unknown:
            raise SettingsError(
                "layers", f"unknown {sorted(unknown)}; choose from {', '.join(LAYERS)}"
            )
        if self.gpx is None and len(self.waypoints) < 2:
            raise SettingsError(
                "route", f"needs at least 2 waypoints or a GPX track, got {len(self.waypoints)}"
            )
        if self.car_blend is not None and not self.car_object:
            raise SettingsError("car", "name the car object inside the car file")
        if self.car_blend is None and self.car_object:
            raise SettingsError("car", f"choose the .blend file that holds {self.car_object!r}")
        if not self.collection_name.strip():
            raise SettingsError("collection_name", "must not be empty")

    @property
    def speed_mps(self) -> float:
        """Car speed in metres per second."""
        return self.speed_kmh / 3.6

    def but(self, **changes) -> "BuildSettings":
        """A copy with some settings changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """JSON-ready form (paths as strings)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, Path):
                data[key] = str(value)
        data["layers"] = sorted(self.layers)
        data["waypoints"] = [list(w) for w in self.waypoints]
        return data


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise SettingsError(name, f"must be a positive number, not {value!r}")
