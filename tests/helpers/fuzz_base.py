"""The fuzz corpus's building blocks: a case, the valid inputs, writers, odd numbers (no bpy).

Everything starts from small valid inputs — the 15-building sample city with a courtyard
multipolygon added, a GPX track along its streets, and two jobs (one by waypoints, one by the
track) — that the mutation modules (:mod:`helpers.fuzz_files`, :mod:`helpers.fuzz_jobs`,
:mod:`helpers.fuzz_options`) change. All randomness comes from the corpus's seeded
:class:`random.Random`.
"""

import csv
import io
import itertools
import json
import random
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from leanroute.route.sample_city import lat_lon_at, write_sample_city

#: The outcome a case requires: ANY builds or fails cleanly; REFUSE must fail.
ANY, REFUSE = "any", "refuse"
#: The files a case may write, by role, and the folder its outputs go to.
OSM, GPX, CSV, JSON = "city.osm", "track.gpx", "jobs.csv", "jobs.json"
OUT_DIR = "out"
GPX_11 = "http://www.topografix.com/GPX/1/1"
#: The courtyard multipolygon added to the city, and its two rings (ids past the city's own).
COURTYARD_RELATION = 9001
COURTYARD_WAYS = (9001, 9002)


@dataclass(frozen=True)
class Case:
    """One hostile input: the files to write, a command line and what the command must do."""

    id: str
    kind: str
    #: The command line; ``{case}`` stands for the case's folder.
    args: tuple[str, ...]
    files: tuple[tuple[str, bytes], ...]
    expect: str = ANY
    #: A refusal's error line names one of these (a file's name, an option).
    mention: tuple[str, ...] = ()
    #: argparse's usage error (exit 2) is a clean refusal too (option cases only).
    usage_ok: bool = False
    fifos: tuple[str, ...] = ()
    folders: tuple[str, ...] = (OUT_DIR,)
    #: Files in which ``{case}`` stands for the case's folder too (absolute paths in a jobs file).
    templated: tuple[str, ...] = ()
    #: (name, target, "symlink" or "hardlink"), made after the files; target in the folder.
    links: tuple[tuple[str, str, str], ...] = ()

    def argv(self, folder) -> list[str]:
        """The command line with ``{case}`` replaced by *folder*."""
        return [arg.replace("{case}", str(folder)) for arg in self.args]

    def file_bytes(self, folder) -> dict[str, bytes]:
        """Every file's name and bytes as written into *folder*."""
        return {
            name: data.replace(b"{case}", str(folder).encode()) if name in self.templated else data
            for name, data in self.files
        }


@dataclass(frozen=True)
class Base:
    """The valid inputs: OSM text, a track along the streets, waypoints, ids by kind."""

    osm: str
    waypoints: str
    track: tuple[tuple[float, float], ...]
    node_ids: tuple[int, ...]
    building_ways: tuple[int, ...]
    highway_ways: tuple[int, ...]


def make_base(seed: int) -> Base:
    """The sample city (15 buildings, *seed*) plus a courtyard; a track along its streets."""
    with tempfile.TemporaryDirectory() as folder:
        city = write_sample_city(Path(folder) / OSM, seed=seed, buildings=15)
        text = Path(city.path).read_text(encoding="utf-8")
    node_ids = tuple(int(m) for m in re.findall(r'<node id="(\d+)"', text))
    ways = {int(m[1]): m[0] for m in re.finditer(r'<way id="(\d+)".*?</way>', text, flags=re.S)}
    buildings = tuple(w for w, body in ways.items() if 'k="building"' in body)
    highways = tuple(w for w, body in ways.items() if 'k="highway"' in body)
    waypoints = ";".join(f"{lat},{lon}" for lat, lon in city.waypoints)
    # On the streets from the south-west corner past the centre to the north-east corner.
    corners = ((-150, -150), (0, -150), (0, 0), (150, 0), (150, 150))
    track = []
    for (x0, y0), (x1, y1) in itertools.pairwise(corners):
        steps = int(max(abs(x1 - x0), abs(y1 - y0)) // 10)
        for k in range(steps):
            track.append(lat_lon_at(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps))
    track.append(lat_lon_at(*corners[-1]))
    text = text.replace("</osm>", _courtyard() + "</osm>")
    return Base(text, waypoints, tuple(track), node_ids, buildings, highways)


def _courtyard() -> str:
    """A courtyard building (outer and inner ring) in the city's empty north-west block."""
    squares = ((9001, 20.0), (9005, 6.0))
    xml = ""
    for first, half in squares:
        for k, (dx, dy) in enumerate(((-1, -1), (1, -1), (1, 1), (-1, 1))):
            lat, lon = lat_lon_at(-75 + dx * half, 75 + dy * half)
            xml += node_xml(first + k, f"{lat:.7f}", f"{lon:.7f}")
    for way, (first, _) in zip(COURTYARD_WAYS, squares, strict=True):
        xml += way_xml(way, [first, first + 1, first + 2, first + 3, first], {})
    members = [("way", COURTYARD_WAYS[0], "outer"), ("way", COURTYARD_WAYS[1], "inner")]
    tags = {"type": "multipolygon", "building": "yes", "building:levels": "3"}
    return xml + relation_xml(COURTYARD_RELATION, members, tags)


def node_xml(node_id, lat, lon) -> str:
    """One OSM node element (its own line)."""
    return f'  <node id="{node_id}" version="1" lat="{lat}" lon="{lon}"/>\n'


def way_xml(way_id, refs, tags: dict) -> str:
    """One OSM way element with its node refs and tags."""
    body = "".join(f'    <nd ref="{r}"/>\n' for r in refs)
    body += "".join(f'    <tag k="{k}" v="{v}"/>\n' for k, v in tags.items())
    return f'  <way id="{way_id}" version="1">\n{body}  </way>\n'


def relation_xml(relation_id, members, tags: dict) -> str:
    """One OSM relation element: *members* are (type, ref, role)."""
    body = "".join(f'    <member type="{t}" ref="{r}" role="{role}"/>\n' for t, r, role in members)
    body += "".join(f'    <tag k="{k}" v="{v}"/>\n' for k, v in tags.items())
    return f'  <relation id="{relation_id}" version="1">\n{body}  </relation>\n'


def gpx_text(
    points,
    *,
    namespace: "str | None" = GPX_11,
    version: str = "1.1",
    kind: str = "trkpt",
    declaration: str = '<?xml version="1.0" encoding="UTF-8"?>',
) -> str:
    """A GPX file of *points*: [lat, lon, ele, time] strings, ele/time None to leave them out."""
    xmlns = f' xmlns="{namespace}"' if namespace is not None else ""
    body = []
    for lat, lon, ele, time in points:
        inner = f"<ele>{ele}</ele>" if ele is not None else ""
        inner += f"<time>{time}</time>" if time is not None else ""
        body.append(f'  <{kind} lat="{lat}" lon="{lon}">{inner}</{kind}>')
    opening, closing = {
        "trkpt": ("<trk><name>fuzz</name><trkseg>", "</trkseg></trk>"),
        "rtept": ("<rte><name>fuzz</name>", "</rte>"),
        "wpt": ("", ""),
    }[kind]
    head = f'<gpx version="{version}" creator="LeanRoute fuzz"{xmlns}>'
    return "\n".join([declaration, head, opening, *body, closing, "</gpx>", ""])


def track_points(base: Base) -> list[list]:
    """The base track as mutable [lat, lon, ele, time] strings, one second apart."""
    return [
        [
            f"{lat:.7f}",
            f"{lon:.7f}",
            f"{100 + k % 7}.5",
            f"2024-05-01T10:{k // 60:02d}:{k % 60:02d}Z",
        ]
        for k, (lat, lon) in enumerate(base.track)
    ]


JOB_COLUMNS = ("id", "osm", "waypoints", "gpx", "out", "padding", "speed")
#: Jobs-file columns LeanRoute reads as numbers.
NUMBER_COLUMNS = ("padding", "speed", "height", "fps", "frame_start", "frame_end")


def job_rows(base: Base) -> list[dict]:
    """Two valid jobs over the base inputs: one by waypoints, one by the GPX track."""
    return [
        {"id": "a", "osm": OSM, "waypoints": base.waypoints, "out": "a.blend", "padding": "100"},
        {"id": "b", "osm": OSM, "gpx": GPX, "out": "b.blend", "speed": "50"},
    ]


def csv_text(header, rows) -> str:
    """CSV text: *header* a list of column names (duplicates allowed), *rows* lists of values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def csv_of(rows: list[dict], columns=JOB_COLUMNS) -> str:
    """The jobs CSV of *rows* (dicts of strings) in *columns*."""
    return csv_text(list(columns), [[row.get(c, "") for c in columns] for row in rows])


def json_object(pairs) -> str:
    """A JSON object from (key, raw JSON text) pairs: duplicate keys and NaN stay as written."""
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}"


def json_job(row: dict, *, numbers_as_text: bool = False) -> list[tuple[str, str]]:
    """A job row as (key, raw JSON) pairs: numbers as JSON numbers unless *numbers_as_text*."""
    return [
        (key, value if key in NUMBER_COLUMNS and not numbers_as_text else json_text(value))
        for key, value in row.items()
    ]


def json_list(*objects) -> str:
    """A JSON list of raw JSON texts."""
    return "[" + ", ".join(objects) + "]"


def json_text(value) -> str:
    """JSON text of *value*, non-ASCII kept as is, as a hand-written file would have it."""
    return json.dumps(value, ensure_ascii=False)


# -- odd numbers -----------------------------------------------------------------------------

_DIGITS = "0123456789"
_SCRIPTS = {
    "arabic-indic": "".join(chr(0x0660 + k) for k in range(10)),
    "fullwidth": "".join(chr(0xFF10 + k) for k in range(10)),
    "devanagari": "".join(chr(0x0966 + k) for k in range(10)),
}


def _underscore(text: str) -> str:
    for k, char in enumerate(text[:-1]):
        if char.isdigit() and text[k + 1].isdigit():
            return text[: k + 1] + "_" + text[k + 1 :]
    return text + "_0"


def _script(digits: str):
    return lambda text: text.translate(str.maketrans(_DIGITS, digits))


_BOTH = frozenset({"float", "int"})
#: (label, the odd text made from the original, kinds of number for which it must be refused).
ODD_NUMBERS = (
    ("underscore", _underscore, _BOTH),
    *((label, _script(digits), _BOTH) for label, digits in _SCRIPTS.items()),
    ("nan", lambda t: "nan", _BOTH),
    ("inf", lambda t: "inf", _BOTH),
    ("neg-inf", lambda t: "-Infinity", _BOTH),
    ("1e999", lambda t: "1e999", _BOTH),
    ("empty", lambda t: "", _BOTH),
    ("blank", lambda t: "   ", _BOTH),
    ("hex", lambda t: "0x1F", _BOTH),
    ("trailing-garbage", lambda t: t + "m", _BOTH),
    ("decimal-comma", lambda t: t.replace(".", ",") if "." in t else t + ",5", _BOTH),
    ("inner-space", lambda t: t[:1] + " " + (t[1:] or "0"), _BOTH),
    ("no-break-space", lambda t: "\u00a0" + t, _BOTH),
    ("thai", _script("".join(chr(0x0E50 + k) for k in range(10))), _BOTH),
    ("double-sign", lambda t: "--" + t.lstrip("-"), _BOTH),
    ("dangling-exponent", lambda t: t + "e", _BOTH),
    ("unicode-minus", lambda t: "\u2212" + t.lstrip("-"), _BOTH),
    ("400-digits", lambda t: "9" * 400, frozenset({"float"})),  # float() makes it inf
    ("fraction", lambda t: t + ("5" if "." in t else ".5"), frozenset({"int"})),
    ("neg-zero", lambda t: "-0", frozenset()),
    ("plus-sign", lambda t: "+" + t.lstrip("-"), frozenset()),
    ("leading-zeros", lambda t: "000" + t.lstrip("-"), frozenset()),
    ("exponent", lambda t: "1e1", frozenset()),
)


def odd_number(counter: int, original: str, kind: str) -> tuple[str, str, str]:
    """(label, text, expect) of the *counter*-th odd number (round robin covers every label)."""
    label, transform, refused_for = ODD_NUMBERS[counter % len(ODD_NUMBERS)]
    return label, transform(original), REFUSE if kind in refused_for else ANY


# -- the corpus being generated --------------------------------------------------------------


@dataclass
class Corpus:
    """The cases so far, the valid inputs and the one random generator they all draw from."""

    base: Base
    rng: random.Random
    cases: list[Case] = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    def add(self, kind: str, label: str, args, files: dict, **more) -> None:
        """Add a case of *kind*; its id is ``kind/NNN-label``."""
        number = self.counts[kind] = self.counts.get(kind, 0) + 1
        encoded = tuple(
            (name, data if isinstance(data, bytes) else data.encode("utf-8"))
            for name, data in files.items()
        )
        self.cases.append(Case(f"{kind}/{number:03d}-{label}", kind, tuple(args), encoded, **more))

    def build_route(self) -> tuple[str, ...]:
        """``build`` the city along the waypoints, with a report."""
        return (
            "build", "--osm", "{case}/" + OSM, "--route", self.base.waypoints,
            "--out", "{case}/out/city.blend", "--report", "{case}/out/city.json", "--quiet",
        )  # fmt: skip

    @staticmethod
    def build_gpx() -> tuple[str, ...]:
        """``build`` the city along the GPX track."""
        return (
            "build", "--osm", "{case}/" + OSM, "--gpx", "{case}/" + GPX,
            "--out", "{case}/out/city.blend", "--quiet",
        )  # fmt: skip

    @staticmethod
    def batch(jobs: str) -> tuple[str, ...]:
        """``batch`` the jobs file (not --quiet: a failed job is said on stdout)."""
        # --hard-budget none: the circuit breaker's re-exec must not restart the test process.
        return ("batch", "{case}/" + jobs, "--out", "{case}/out", "--hard-budget", "none")

    def gpx(self, points=None, **options) -> str:
        """The base track (or *points*) as GPX text."""
        return gpx_text(track_points(self.base) if points is None else points, **options)

    def jobs_inputs(self) -> dict:
        """The files the base jobs read."""
        return {OSM: self.base.osm, GPX: self.gpx()}
