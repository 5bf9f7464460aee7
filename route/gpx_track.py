"""Read a recorded GPS track from a GPX file (1.0, 1.1 or later), streaming, refusing bad input.

Plain Python and numpy, no bpy. The file is fed in chunks to the stdlib expat parser with
namespace processing on, so GPX elements are recognised by namespace and local name, and
vendor extensions (Garmin's ``gpxtpx:``/``gpxx:``, OSMTracker's ``<speed>`` inside
``<extensions>``) are skipped whatever they contain. Like the OSM reader (both open the file
and feed expat through :mod:`.xml_input`), a FIFO or device is refused before it is opened,
unreadable encodings and binary files are named, and any ``<!DOCTYPE>`` or entity
declaration is refused before anything could be expanded.

The GPX namespace is the root's: a ``<gpx>`` root in the GPX 1.0 or 1.1 namespace, in a later
version's (``.../GPX/1/2``) or in none is read the same way, by local names; elements of
other namespaces are extensions. A root that is not ``<gpx>`` is refused, its namespace shown.

What is read: every ``<trkpt>`` of every ``<trk>``/``<trkseg>``, concatenated in file order;
if the file has none, its ``<rtept>`` route points instead (waypoints ``<wpt>`` are not a
path and are ignored). Per point, the ``lat``/``lon`` attributes (required) and its own
``<ele>`` and ``<time>`` children (optional; an ISO 8601 time with or without fraction and
zone, a time without zone taken as UTC). Times and elevations are kept only if every point
has one, so a consumer never has to fill gaps. Numbers follow :mod:`.strict_numbers` (ASCII
digits, no ``_``, finite; spaces allowed only around element text), times have ASCII digits
and real calendar values (month 01-12, hour 00-23, a zone within ±18:00).

Errors are :class:`.errors.InputFileError` with ``path:line:column`` (1-based). Each point's
line is kept (``Track.lines``), so later checks of the track can name it.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from xml.parsers import expat

import numpy as np

from .errors import InputFileError
from .strict_numbers import NumberError, parse_decimal, strip_ascii
from .xml_input import TRUNCATION_ERRORS, create_parser, current_position, feed, read_xml_file

GPX_NAMESPACES = frozenset(
    {"http://www.topografix.com/GPX/1/1", "http://www.topografix.com/GPX/1/0"}
)
DTD_REFUSED = "DTD and entity declarations are not allowed in GPX files (refused, not expanded)"

# datetime.UTC is Python 3.11+; Blender 3.4-4.0 (supported) ship Python 3.10.
_UTC = timezone.utc  # noqa: UP017

_ISO_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})"  # date and hours:minutes
    r"(?::([0-9]{2})(?:[.,]([0-9]+))?)?"  # optional seconds and fraction
    r" ?(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?"  # optional zone
)
#: The largest UTC offset accepted (ISO 8601 allows any; real zones stay within ±14:00).
MAX_OFFSET = timedelta(hours=18)


@dataclass(frozen=True, eq=False)
class Track:
    """A recorded track: ``lat``/``lon`` float64 degrees, one entry per point, in order.

    ``times`` float64 seconds since the first point (``start_time``, an aware UTC datetime)
    or None; ``ele`` float64 metres or None; ``kind`` is "trkpt" or "rtept"; ``name`` is the
    first ``<trk>``/``<rte>`` name, or "". ``lines`` (int64, or None for a track not read
    from a file) is the line of each point's start tag in the file.
    """

    path: str
    lat: np.ndarray
    lon: np.ndarray
    times: "np.ndarray | None" = None
    ele: "np.ndarray | None" = None
    start_time: "datetime | None" = None
    name: str = ""
    kind: str = "trkpt"
    lines: "np.ndarray | None" = None

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

    def line_of(self, index: int) -> "int | None":
        """The file line of point *index* (0-based), if known."""
        return None if self.lines is None else int(self.lines[index])

    def subset(self, keep) -> "Track":
        """The track of the points *keep* (indices, ascending); times restart at the first."""
        keep = np.asarray(keep, dtype=np.int64)
        times, start = self.times, self.start_time
        if times is not None and len(keep):
            first = float(times[keep[0]])
            times = times[keep] - first
            start = start + timedelta(seconds=first)
        return Track(
            self.path,
            self.lat[keep],
            self.lon[keep],
            times,
            None if self.ele is None else self.ele[keep],
            start,
            self.name,
            self.kind,
            None if self.lines is None else self.lines[keep],
        )

    def without_times(self) -> "Track":
        """The same points with no times (when the times cannot be trusted)."""
        return Track(
            self.path, self.lat, self.lon, None, self.ele, None, self.name, self.kind, self.lines
        )


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

    Raises ValueError with a message saying what is wrong (a readable line, no exception
    name) if *text* is not one: not the ISO layout, ASCII digits only, a 4-digit year from
    0001, month 01-12, a day the month has, hour 00-23, minute 00-59, second 00-60 (a leap
    second is read as the next second), a zone ``Z`` or ``±hh[:mm]`` within ±18:00. Written
    out rather than ``fromisoformat`` so that ``Z`` and long fractions parse on every Python
    that Blender ships.
    """
    text = strip_ascii(text)
    match = _ISO_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"{_quoted(text)} is not an ISO 8601 time like 2021-06-18T16:28:19Z")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    problem = _field_problem(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
    )
    if problem:
        raise ValueError(f"{_quoted(text)} is not a real time: {problem}")
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = _UTC
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        offset = timedelta(hours=hours, minutes=minutes)
        if minutes > 59 or offset > MAX_OFFSET:
            raise ValueError(
                f"{_quoted(text)} has the time zone offset {zone}, which no place has "
                "(expected Z or -18:00..+18:00)"
            )
        tz = timezone(sign * offset)
    leap = int(second or 0) == 60  # a leap second: the next second, 00 of the next minute
    try:
        value = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0) - leap,
            micro,
            tz,
        )
        return (value + timedelta(seconds=leap)).astimezone(_UTC)
    except (OverflowError, ValueError):
        raise ValueError(
            f"{_quoted(text)} is outside the dates LeanRoute can handle (years 0001-9999 in UTC)"
        ) from None


def _field_problem(year: int, month: int, day: int, hour: int, minute: int, second: int) -> str:
    """What is out of range in a date and time written with these fields, or ""."""
    if year < 1:
        return f"year {year:04d} is before year 0001"
    if not 1 <= month <= 12:
        return f"month {month:02d} is not 01-12"
    days = [31, 29 if _leap_year(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    last = days[month - 1]
    checks = (
        (1 <= day <= last, f"day {day:02d} is not in {year:04d}-{month:02d} (01-{last})"),
        (hour <= 23, f"hour {hour:02d} is not 00-23"),
        (minute <= 59, f"minute {minute:02d} is not 00-59"),
        (second <= 60, f"second {second:02d} is not 00-59"),
    )
    return next((problem for ok, problem in checks if not ok), "")


def _leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _quoted(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:60] + "…")


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
        self.namespaces = {""}  # the GPX namespace(s): the root's, and none
        self.current: list = []  # lat, lon, ele, time, line of the open point
        self.points: dict[str, list[tuple]] = {"trkpt": [], "rtept": []}

    def read(self, stream) -> None:
        """Feed *stream* to expat; turn every failure into an InputFileError."""
        feed(self.parser, stream, self.path, self._xml_error, format_name="GPX XML")
        self.parser = None

    def _xml_error(self, error: expat.ExpatError) -> InputFileError:
        line, column = error.lineno, error.offset + 1
        if self.root_seen and error.code in TRUNCATION_ERRORS:
            reason = "the XML ends early, before </gpx> (truncated file?)"
        else:
            reason = f"invalid XML: {expat.ErrorString(error.code)}"
        return InputFileError(self.path, reason, line=line, column=column)

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
        lines = np.array([p[4] for p in points], dtype=np.int64)
        return Track(self.path, lat, lon, times, ele, start, self.name, kind, lines)

    # ---- handlers ---------------------------------------------------------------------------

    def _error(self, message: str, at: "tuple[int, int] | None" = None) -> InputFileError:
        line, column = at or current_position(self.parser)
        return InputFileError(self.path, message, line=line, column=column)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        depth = self.depth = self.depth + 1
        namespace, _, local = name.rpartition(" ")
        if depth == 1:
            self._root(namespace, local)
        gpx = namespace in self.namespaces or namespace in GPX_NAMESPACES
        parent = self.parents[-1] if self.parents else ""
        self.parents.append(local if gpx else "")
        if depth == 1 or not gpx:
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

    def _root(self, namespace: str, local: str) -> None:
        # Any GPX version: <gpx> in the namespace of 1.0, 1.1, a later one, or none.
        if local != "gpx":
            shown = f'<{local} xmlns="{namespace}">' if namespace else f"<{local}>"
            raise self._error(f"the root element is {shown}, expected <gpx> (not a GPX file)")
        self.namespaces.add(namespace)
        self.root_seen = True

    def _open_point(self, kind: str, attrs: dict[str, str]) -> None:
        values = []
        for key, low, high in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0)):
            raw = attrs.get(key)
            if raw is None:
                raise self._error(f"<{kind}> has no {key} attribute")
            try:
                value = parse_decimal(raw)
            except NumberError as error:
                raise self._error(f"<{kind}> {key}={error}") from None
            if not low <= value <= high:
                raise self._error(f"<{kind}> {key}={raw!r} is outside {low:g}..{high:g}")
            values.append(value)
        self.point_depth = self.depth
        self.point_kind = kind
        self.current = [values[0], values[1], None, None, self.parser.CurrentLineNumber]

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
        raw = "".join(self.buffer)
        field, self.field = self.field, ""
        if field == "name":
            self.name = raw.strip()
            return
        text = strip_ascii(raw)  # XML layout around the value; nothing else is padding
        if not text:
            return  # an empty <ele/> or <time/> is as good as none
        if field == "ele":
            try:
                self.current[2] = parse_decimal(text)
            except NumberError as error:
                raise self._error(f"<ele> {error}", self.field_at) from None
        else:
            try:
                self.current[3] = parse_iso_time(text)
            except ValueError as error:
                raise self._error(f"<time> {error}", self.field_at) from None
