"""What one build is asked to do: a frozen settings object passed down the pipeline (no bpy).

Every option's allowed range and default is defined here once (:data:`RANGES`); the command
line's help and checks, the jobs file (through :meth:`BuildSettings.validate`) and the
panel's property limits all read it.
"""

import math
import numbers
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .errors import SettingsError
from .routing import DEFAULT_MAX_SNAP_M

LAYERS = ("roads", "buildings", "ground")

#: Blender's scene frame range (``Scene.frame_start`` / ``frame_end`` hard limits, MAXFRAME).
FRAME_MIN, FRAME_MAX = 0, 1_048_574


@dataclass(frozen=True)
class Range:
    """The values an option may take: *low* to *high* inclusive, in *unit*, and its default."""

    low: float
    high: float
    default: "float | None"
    unit: str = ""
    #: A whole number (frames, fps), not a measurement.
    whole: bool = False

    def text(self) -> str:
        """``"from 1 to 1,000 km/h"``: the range as the messages and the help say it."""
        unit = f" {self.unit}" if self.unit else ""
        return f"from {_figure(self.low)} to {_figure(self.high)}{unit}"

    def contains(self, value) -> bool:
        """True for a number (not a bool) inside the range; whole ranges take ints only."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.whole and not isinstance(value, numbers.Integral):
            return False
        return math.isfinite(value) and self.low <= value <= self.high

    def check(self, setting: str, value) -> None:
        """Raise :class:`SettingsError` for *setting* unless *value* is in the range."""
        if not self.contains(value):
            kind = "a whole number" if self.whole else "a number"
            raise SettingsError(setting, f"must be {kind} {self.text()}, not {value!r}")


def _figure(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


#: Allowed range and default of each numeric setting, by BuildSettings field.
RANGES = {
    # Beyond 50 km the clip box is larger than any city extract and float32 vertices coarsen.
    "padding_m": Range(0.0, 50_000.0, 150.0, "m"),
    "speed_kmh": Range(1.0, 1_000.0, 40.0, "km/h"),
    # 240 is Blender's own soft limit for the frame rate (its UI's largest preset).
    "fps": Range(1, 240, 24, "frames per second", whole=True),
    "frame_start": Range(FRAME_MIN, FRAME_MAX - 1, 1, whole=True),
    "frame_end": Range(FRAME_MIN + 1, FRAME_MAX, None, whole=True),
    "default_height_m": Range(0.1, 1_000.0, 9.0, "m"),
    "max_snap_m": Range(1.0, 10_000.0, DEFAULT_MAX_SNAP_M, "m"),
}


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
    padding_m: float = RANGES["padding_m"].default
    speed_kmh: float = RANGES["speed_kmh"].default
    fps: int = RANGES["fps"].default
    frame_start: int = RANGES["frame_start"].default
    #: When set, the drive is timed to end on this frame and ``speed_kmh`` is not used.
    frame_end: "int | None" = None
    layers: frozenset[str] = field(default_factory=lambda: frozenset(LAYERS))
    default_height_m: float = RANGES["default_height_m"].default
    car_blend: "Path | None" = None
    car_object: str = ""
    max_snap_m: float = RANGES["max_snap_m"].default
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
        """Refuse settings out of range, naming the setting and the allowed range."""
        for name, allowed in RANGES.items():
            if name != "frame_end":
                allowed.check(name, getattr(self, name))
        end = self.frame_end
        if end is not None:
            # An end on or before the start says more than the range would.
            whole = isinstance(end, numbers.Integral) and not isinstance(end, bool)
            if whole and end <= self.frame_start:
                raise SettingsError(
                    "frame_end", f"must be after the first frame ({self.frame_start}), not {end}"
                )
            RANGES["frame_end"].check("frame_end", end)
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

    def drive_frames(self, length_m: float) -> int:
        """How many frames the drive along a route of *length_m* metres spans (as keyed)."""
        if self.frame_end is not None:
            return self.frame_end - self.frame_start + 1
        # As route.motion.car_motion counts them: one key per frame, both ends keyed.
        return math.ceil(length_m / self.speed_mps * self.fps) + 1

    def check_drive_fits(self, length_m: float) -> None:
        """Refuse a drive whose last key would fall past Blender's last frame.

        Known only once the route's length is: the route stage calls it before anything
        is written to Blender.
        """
        if self.frame_end is not None:
            return  # validate() kept frame_end inside Blender's range
        frames = self.drive_frames(length_m)
        last = self.frame_start + frames - 1
        if last <= FRAME_MAX:
            return
        raise SettingsError(
            "frame_start",
            f"the {length_m / 1000:,.1f} km drive at {self.speed_kmh:g} km/h and {self.fps} fps "
            f"takes {frames:,} frames, so starting on frame {self.frame_start:,} its last key "
            f"would fall on frame {last:,}, past Blender's last frame {FRAME_MAX:,}: lower the "
            "first frame, raise the speed or lower the fps, or time the drive with an end frame",
        )

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
