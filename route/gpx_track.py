"""Read a recorded GPS track from a GPX file (1.0 or 1.1), streaming, refusing bad input.

Plain Python and numpy, no bpy. The file is fed in chunks to the stdlib expat parser with
namespace processing on, so GPX elements are recognised by namespace and local name, and
vendor extensions (Garmin's ``gpxtpx:``/``gpxx:``, OSMTracker's ``<speed>`` inside
``<extensions>``) are skipped whatever they contain. Like the OSM reader (both open the file
and set up expat through :mod:`.xml_input`), any ``<!DOCTYPE>`` or entity declaration is
refused before anything could be expanded.

What is read: every ``<trkpt>`` of every ``<trk>``/``<trkseg>``, concatenated in file order;
if the file has none, its ``<rtept>`` route points instead (waypoints ``<wpt>`` are not a
path and are ignored). Per point, the ``lat``/``lon`` attributes (required) and its own
``<ele>`` and ``<time>`` children (optional; an ISO 8601 time with or without fraction and
zone, a time without zone taken as UTC). Times and elevations are kept only if every point
has one, so a consumer never has to fill gaps.

Errors are :class:`.errors.InputFileError` with ``path:line:column`` (1-based).
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from xml.parsers import expat

import numpy as np

from .errors import InputFileError
from .xml_input import create_parser, current_position, read_xml_file

#: Bytes handed to expat at a time.
CHUNK_SIZE = 1 << 16
GPX_NAMESPACES = frozenset(
    {"http://www.topografix.com/GPX/1/1", "http://www.topografix.com/GPX/1/0"}
)
DTD_REFUSED = "DTD and entity declarations are not allowed in GPX files (refused, not expanded)"

# datetime.UTC is Python 3.11+; Blender 3.4-4.0 (supported) ship Python 3.10.
_UTC = timezone.utc  # noqa: UP017

_ISO_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d)"  # date and hours:minutes
    r"(?::(\d\d)(?:[.,](\d+))?)?"  # optional seconds and fraction
    r"\s*(Z|z|[+-]\d\d(?::?\d\d)?)?"  # optional zone
)


@dataclass(frozen=True, eq=False)
class Track:
    """A recorded track: ``lat``/``lon`` float64 degrees, one entry per point, in order.

    ``times`` float64 seconds since the first point (``start_time``, an aware UTC datetime)
    or None; ``ele`` float64 metres or None; ``kind`` is "trkpt" or "rtept"; ``name`` is the
    first ``<trk>``/``<rte>`` name, or "".
    """

    path: str
    lat: np.ndarray
    lon: np.ndarray
    times: "np.ndarray | None" = None
    ele: "np.ndarray | None" = None
    start_time: "datetime | None" = None
    name: str = ""
    kind: str = "trkpt"

    def __len__(self) -> int:
        return len(self.lat)

    @property
    def latlon(self) -> np.ndarray:
        """(N, 2) array of (lat, lon) rows."""
        return np.column_stack((self.lat, self.lon))

    @property
    def duration_s(self) -> "float | None":
        """Seconds from the first to the last point, if the track has times."""
        return None if self.times is None or len(self.times) == 0 else float(self.times[-1])


def read_gpx(path) -> Track:
    """Read the GPX file at *path*: its track points, else its route points.

    Raises :class:`.errors.InputFileError` naming the file and, where known, line and column:
    a missing file, empty or malformed XML, a DOCTYPE or entity, a root other than
    ``<gpx>``, a point without valid ``lat``/``lon``, a bad ``<ele>`` or ``<time>``, or a
    file without any track or route point.
    """
    return read_xml_file(path, _Reader, "a GPX file")


def parse_iso_time(text: str) -> datetime:
    """An ISO 8601 date-time as an aware datetime (UTC when the text has no zone).

    Raises ValueError if *text* is not one. Written out rather than ``fromisoformat`` so
    that ``Z`` and long fractions parse on every Python that Blender ships.
    """
    match = _ISO_TIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text.strip()!r} is not an ISO 8601 time like 2021-06-18T16:28:19Z")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = _UTC
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        tz = timezone(sign * offset)
    try:
        value = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz
        )
    except ValueError as error:  # e.g. month 13: say which text, not only what
        raise ValueError(f"{text.strip()!r} is not a valid time: {error}") from None
    return value.astimezone(_UTC)


class _Reader:
    """expat handlers collecting points; one instance reads one file."""

    def __init__(self, path: str):
        self.path = path
        # Namespace processing: names arrive as "uri local" (or "local" without a namespace).
        parser = create_parser(path, DTD_REFUSED, namespace_separator=" ")
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self.parser = parser
        self.depth = 0
        self.parents: list[str] = []  # local names of the open elements
        self.root_seen = False
        self.point_depth = 0  # depth of the open <trkpt>/<rtept>, else 0
        self.point_kind = ""
        self.field = ""  # "ele", "time" or "name" while inside one, else ""
        self.field_depth = 0
        self.field_at: tuple[int, int] = (0, 0)
        self.buffer: list[str] = []
        self.name = ""
        self.current: list = []  # lat, lon, ele, time of the open point
        self.points: dict[str, list[tuple]] = {"trkpt": [], "rtept": []}

    def read(self, stream) -> None:
        """Feed *stream* to expat; turn every failure into an InputFileError."""
        parser = self.parser
        nonblank = False
        try:
            while chunk := stream.read(CHUNK_SIZE):
                if not nonblank and not chunk.strip():
                    continue
                nonblank = True
                parser.Parse(chunk, False)
            if not nonblank:
                raise InputFileError(self.path, "the file is empty", line=1, column=1)
            parser.Parse(b"", True)
        except expat.ExpatError as error:
            line, column = error.lineno, error.offset + 1
            if (
                self.root_seen
                and error.code == expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS]
            ):
                reason = "the XML ends early, before </gpx> (truncated file?)"
            else:
                reason = f"invalid XML: {expat.ErrorString(error.code)}"
            raise InputFileError(self.path, reason, line=line, column=column) from None
        except OSError as error:
            raise InputFileError(self.path, f"cannot be read: {error.strerror or error}") from None

    def result(self) -> Track:
        """The track read, or an InputFileError if the file has no points."""
        kind = "trkpt" if self.points["trkpt"] else "rtept"
        points = self.points[kind]
        if not points:
            raise InputFileError(
                self.path, "the GPX file has no track points (<trkpt>) or route points (<rtept>)"
            )
        lat = np.array([p[0] for p in points], dtype=np.float64)
        lon = np.array([p[1] for p in points], dtype=np.float64)
        ele = None
        if all(p[2] is not None for p in points):
            ele = np.array([p[2] for p in points], dtype=np.float64)
        times = start = None
        if all(p[3] is not None for p in points):
            start = points[0][3]
            times = np.array([(p[3] - start).total_seconds() for p in points], dtype=np.float64)
        return Track(self.path, lat, lon, times, ele, start, self.name, kind)

    # ---- handlers ---------------------------------------------------------------------------

    def _error(self, message: str, at: "tuple[int, int] | None" = None) -> InputFileError:
        line, column = at or current_position(self.parser)
        return InputFileError(self.path, message, line=line, column=column)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        depth = self.depth = self.depth + 1
        namespace, _, local = name.rpartition(" ")
        gpx = namespace in GPX_NAMESPACES or not namespace
        parent = self.parents[-1] if self.parents else ""
        self.parents.append(local if gpx else "")
        if depth == 1:
            if local != "gpx" or not gpx:
                raise self._error(f"the root element is <{local}>, expected <gpx>")
            self.root_seen = True
            return
        if not gpx:
            return
        if self.point_depth:
            if depth == self.point_depth + 1 and local in ("ele", "time"):
                self.field = local
                self.field_depth = depth
                self.field_at = current_position(self.parser)
                self.buffer.clear()
        elif local in ("trkpt", "rtept"):
            self._open_point(local, attrs)
        elif local == "name" and not self.name and parent in ("trk", "rte"):
            self.field = "name"
            self.field_depth = depth
            self.buffer.clear()

    def _open_point(self, kind: str, attrs: dict[str, str]) -> None:
        values = []
        for key, low, high in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0)):
            raw = attrs.get(key)
            if raw is None:
                raise self._error(f"<{kind}> has no {key} attribute")
            try:
                value = float(raw)
            except ValueError:
                raise self._error(f"<{kind}> {key}={raw!r} is not a number") from None
            if not low <= value <= high:
                raise self._error(f"<{kind}> {key}={raw!r} is outside {low:g}..{high:g}")
            values.append(value)
        self.point_depth = self.depth
        self.point_kind = kind
        self.current = [values[0], values[1], None, None]

    def _text(self, data: str) -> None:
        if self.field:
            self.buffer.append(data)

    def _end(self, _name: str) -> None:
        depth = self.depth
        self.depth = depth - 1
        self.parents.pop()
        if self.field and depth == self.field_depth:
            self._close_field()
        elif self.point_depth and depth == self.point_depth:
            self.points[self.point_kind].append(tuple(self.current))
            self.point_depth = 0

    def _close_field(self) -> None:
        text = "".join(self.buffer).strip()
        field, self.field = self.field, ""
        if field == "name":
            self.name = text
        elif not text:
            return  # an empty <ele/> or <time/> is as good as none
        elif field == "ele":
            try:
                value = float(text)
            except ValueError:
                value = float("nan")
            if not np.isfinite(value):
                raise self._error(f"<ele> {text!r} is not a number", self.field_at)
            self.current[2] = value
        else:
            try:
                self.current[3] = parse_iso_time(text)
            except ValueError as error:
                raise self._error(f"<time> {error}", self.field_at) from None
