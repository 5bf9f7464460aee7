"""The command line's arguments (plain argparse, no bpy).

Every value is checked where it enters: numbers by the strict grammar of the input files
(:mod:`..route.strict_numbers`: no ``1_0``, no ``nan``, no other scripts' digits) and against
the allowed range of :data:`..route.settings.RANGES`, paths made absolute against the current
folder. A bad value is a usage error (exit code 2) on one line naming the option and what it
takes.
"""

import argparse

from ..memory.units import parse_size
from ..route.output_paths import absolute, names_a_folder
from ..route.settings import LAYERS, RANGES
from ..route.strict_numbers import NumberError, parse_decimal, parse_integer

#: Upper limit of ``--workers``: admission holds workers back by memory, this by sense.
MAX_WORKERS = 1000

#: The option of the command line that sets each BuildSettings field (for messages).
OPTION_OF_FIELD = {
    "osm": "--osm",
    "gpx": "--gpx",
    "route": "--route",
    "waypoints": "--route",
    "out": "--out",
    "report": "--report",
    "padding_m": "--padding",
    "speed_kmh": "--speed",
    "fps": "--fps",
    "frame_start": "--frame-start",
    "frame_end": "--frame-end",
    "layers": "--layers",
    "default_height_m": "--height",
    "car_blend": "--car-blend",
    "car_object": "--car-object",
    "car": "--car-blend",
}


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line: the problem and where to read more."""

    def error(self, message: str):
        """Print ``PROG: error: MESSAGE (PROG --help lists the options)`` and exit with 2."""
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def build_parser(prog: str = "leanroute") -> argparse.ArgumentParser:
    """The parser for ``leanroute build …``, ``leanroute demo …`` and ``leanroute batch …``."""
    parser = Parser(
        prog=prog,
        description="Build animated route scenes from OpenStreetMap data, with memory that "
        "stays flat. Map data © OpenStreetMap contributors.",
    )
    parser.add_argument("--debug", action="store_true", help="print tracebacks of errors")
    # Also after the command ("leanroute build --debug …"); not set there, the top level's holds.
    anywhere = Parser(add_help=False)
    anywhere.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="print tracebacks"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser(
        "build", parents=[anywhere], help="build a scene from an .osm file and a route"
    )
    build.add_argument("--osm", type=file_path, required=True, help="OpenStreetMap XML file (.osm)")
    build.add_argument(
        "--route", default="", metavar="LAT,LON;LAT,LON", help="two or more waypoints, in order"
    )
    build.add_argument("--gpx", type=file_path, help="a GPX track to follow instead of --route")
    build.add_argument(
        "--no-snap", action="store_true", help="follow the GPX track as recorded, not snapped"
    )
    _common_options(build, out_required=True)

    demo = commands.add_parser(
        "demo", parents=[anywhere], help="build the generated sample city (no download)"
    )
    demo.add_argument(
        "--out-dir",
        type=absolute,
        default="leanroute-demo",
        help="folder for sample.osm, demo.blend and demo-report.json (default: %(default)s)",
    )
    demo.add_argument(
        "--buildings",
        type=whole_number("--buildings", 1),
        metavar="N",
        help="a city of exactly N buildings, its street grid sized to fit "
        "(default: the 1.2 km sample city)",
    )
    _common_options(demo, out_required=False)
    add_batch_parser(commands, parents=[anywhere])
    return parser


def file_path(text: str):
    """An argparse type: a file's path, made absolute; ``x/`` or ``..`` names a folder."""
    if names_a_folder(text):
        raise argparse.ArgumentTypeError(f"{text!r} names a folder: give a file name")
    return absolute(text)


def number(field: str):
    """An argparse type: a number in the strict grammar, within ``RANGES[field]``."""
    allowed = RANGES[field]

    def convert(text: str):
        try:
            value = parse_integer(text) if allowed.whole else parse_decimal(text)
        except NumberError as error:
            kind = "a whole number" if allowed.whole else "a number"
            raise argparse.ArgumentTypeError(f"{error}; give {kind} {allowed.text()}") from None
        if not allowed.contains(value):
            kind = "a whole number" if allowed.whole else "a number"
            raise argparse.ArgumentTypeError(f"must be {kind} {allowed.text()}, not {text}")
        return value

    convert.__name__ = field  # argparse names the type in some messages
    return convert


def whole_number(option: str, low: int, high: "int | None" = None):
    """An argparse type: a whole number from *low* (to *high*)."""
    span = f"from {low:,} to {high:,}" if high is not None else f">= {low:,}"

    def convert(text: str) -> int:
        try:
            value = parse_integer(text)
        except NumberError as error:
            raise argparse.ArgumentTypeError(f"{error}; give a whole number {span}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected a whole number {span}, not {text}")
        return value

    convert.__name__ = option
    return convert


def size(text: str) -> str:
    """An argparse type: a memory size above 0 ("2GB", "800 MiB"), or 'auto'/'none' as given."""
    if str(text).strip().lower() in ("auto", "none"):
        return str(text).strip().lower()
    try:
        value = parse_size(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size: give a number and a unit, e.g. 2GB or 800 MiB"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is no memory at all: give e.g. 2GB")
    return text


def shard(text: str) -> str:
    """An argparse type: ``I/N``, whole numbers with 1 <= I <= N (the text, for Shard.parse)."""
    index, slash, count = str(text).partition("/")
    try:
        if not slash:
            raise NumberError(text)
        i, n = parse_integer(index), parse_integer(count)
    except NumberError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not I/N, e.g. 2/4 for the second of four shards"
        ) from None
    if n < 1 or not 1 <= i <= n:
        raise argparse.ArgumentTypeError(
            f"shard {text}: N must be 1 or more and I from 1 to N, e.g. 2/4"
        )
    return f"{i}/{n}"


def _help(field: str, what: str) -> str:
    allowed = RANGES[field]
    default = f", default {allowed.default:g}" if allowed.default is not None else ""
    return f"{what}, {allowed.text()}{default}"


def _common_options(parser: argparse.ArgumentParser, *, out_required: bool) -> None:
    if out_required:
        parser.add_argument("--out", type=file_path, required=True, help="the .blend file to write")
        parser.add_argument(
            "--report", type=file_path, help="write the memory report (a .json file) here"
        )
    _setting_options(parser, defaults=True)
    parser.add_argument("--car-object", default="", help="name of the car object in --car-blend")
    parser.add_argument(
        "--no-hygiene",
        action="store_true",
        help="measure only: no cleanup between stages (for comparisons)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only errors")


def _setting_options(parser, *, defaults: bool) -> None:
    """The build settings' options; without *defaults* (batch), unset ones stay None."""

    def default(field: str):
        return RANGES[field].default if defaults else None

    parser.add_argument(
        "--padding",
        type=number("padding_m"),
        default=default("padding_m"),
        help=_help("padding_m", "metres around the route"),
    )
    parser.add_argument(
        "--speed",
        type=number("speed_kmh"),
        default=default("speed_kmh"),
        help=_help("speed_kmh", "car speed in km/h"),
    )
    parser.add_argument(
        "--fps", type=number("fps"), default=default("fps"), help=_help("fps", "frame rate")
    )
    parser.add_argument(
        "--frame-start",
        type=number("frame_start"),
        default=default("frame_start"),
        help=_help("frame_start", "first frame of the drive"),
    )
    parser.add_argument(
        "--frame-end",
        type=number("frame_end"),
        default=None,
        help=_help("frame_end", "time the drive to end on this frame (instead of --speed)"),
    )
    parser.add_argument(
        "--layers",
        default=",".join(LAYERS) if defaults else None,
        help=f"comma-separated layers to build, from {', '.join(LAYERS)} (default: all)",
    )
    parser.add_argument(
        "--height",
        type=number("default_height_m"),
        default=default("default_height_m"),
        help=_help("default_height_m", "building height where the map gives none, m"),
    )
    parser.add_argument("--car-blend", type=file_path, help=".blend file holding a car object")


def add_batch_parser(commands, parents=()) -> None:
    """``leanroute batch JOBS --out DIR``: many route scenes from a jobs file."""
    batch = commands.add_parser(
        "batch",
        parents=list(parents),
        help="build many route scenes from a jobs file (CSV or JSON), resumable",
        description="Build every job of a jobs file (CSV or JSON: osm, waypoints or gpx, out, "
        "optional settings) into DIR. Memory stays flat between jobs; a checkpoint after "
        "every job lets a killed batch resume where it stopped. See docs/batch.md.",
    )
    batch.add_argument("jobs", type=file_path, help="the jobs file (.csv or .json)")
    batch.add_argument(
        "--out", type=absolute, required=True, help="folder for the outputs and the batch's state"
    )
    mode = batch.add_mutually_exclusive_group()
    mode.add_argument("--isolate", action="store_true", help="run each job in a fresh process")
    mode.add_argument(
        "--recycle-every",
        type=whole_number("--recycle-every", 1),
        metavar="N",
        help="start a fresh process every N jobs",
    )
    batch.add_argument(
        "--workers",
        type=whole_number("--workers", 1, MAX_WORKERS),
        default=1,
        metavar="N",
        help="with --isolate or --recycle-every: up to N processes at once, admitted only "
        "while available memory covers the largest job's peak (default: %(default)s)",
    )
    batch.add_argument(
        "--shard",
        type=shard,
        default="1/1",
        metavar="I/N",
        help="run only shard I of N (farms; 1-based)",
    )
    batch.add_argument("--fail-fast", action="store_true", help="stop at the first failed job")
    batch.add_argument(
        "--retry-failed", action="store_true", help="run jobs that failed in an earlier run again"
    )
    batch.add_argument(
        "--no-hygiene",
        action="store_true",
        help="no cleanup in or between jobs: the baseline that --compare-to compares with",
    )
    batch.add_argument(
        "--soft-budget", type=size, metavar="SIZE", help="RSS above which cleanup runs more"
    )
    batch.add_argument(
        "--hard-budget",
        type=size,
        default="auto",
        metavar="SIZE",
        help="RSS that stops a stage (the job fails, the batch goes on); 'auto' is 80%% of "
        "the memory available at the start, 'none' is no limit (default: %(default)s)",
    )
    batch.add_argument(
        "--restart-above",
        type=size,
        metavar="SIZE",
        help="circuit breaker: when RSS stays above SIZE after a job's cleanup, take no more "
        "jobs in that process and go on in a fresh one (default: the hard budget)",
    )
    batch.add_argument(
        "--compare-to",
        type=absolute,
        metavar="REPORT",
        help="an earlier batch report of the same jobs run with --no-hygiene: report the "
        "memory saved",
    )
    batch.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    settings = batch.add_argument_group(
        "settings for every job (a job's own column wins over these)"
    )
    _setting_options(settings, defaults=False)
    settings.add_argument("--car-object", help="name of the car object in --car-blend")
    settings.add_argument(
        "--no-snap", action="store_true", default=None, help="follow GPX tracks as recorded"
    )
    # A worker process: the coordinator passes the jobs it should run (not for users).
    batch.add_argument("--worker-jobs", help=argparse.SUPPRESS)
    batch.add_argument("--worker-parent", type=int, default=0, help=argparse.SUPPRESS)
    batch.add_argument("--worker-attempts", default="", help=argparse.SUPPRESS)


def join_option_values(argv: "list[str]", parser: argparse.ArgumentParser) -> "list[str]":
    """*argv* with each value that starts with '-' joined to its option (``--route=-33.8,…``).

    argparse takes ``--route -33.86,151.2;-33.87,151.21`` for two options and refuses it; a
    southern or western waypoint, or a negative number for any option, must not need '='.
    A value is joined when its option takes one and it is not itself an option.
    """
    takes_value, known = set(), set()
    for each in _parsers(parser):
        for action in each._actions:
            known.update(action.option_strings)
            if action.option_strings and action.nargs is None and action.const is None:
                takes_value.update(action.option_strings)
    joined: list[str] = []
    position = 0
    while position < len(argv):
        item = argv[position]
        following = argv[position + 1] if position + 1 < len(argv) else None
        if (
            item in takes_value
            and following is not None
            and following.startswith("-")
            and following not in known
            and not following.startswith("--")
        ):
            joined.append(f"{item}={following}")
            position += 2
            continue
        joined.append(item)
        position += 1
    return joined


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)
