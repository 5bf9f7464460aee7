"""The command line's arguments (plain argparse, no bpy)."""

import argparse
from pathlib import Path

from ..route.settings import LAYERS


def build_parser(prog: str = "leanroute") -> argparse.ArgumentParser:
    """The parser for ``leanroute build …``, ``leanroute demo …`` and ``leanroute batch …``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Build animated route scenes from OpenStreetMap data, with memory that "
        "stays flat. Map data © OpenStreetMap contributors.",
    )
    parser.add_argument("--debug", action="store_true", help="print tracebacks of errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build a scene from an .osm file and a route")
    build.add_argument("--osm", type=Path, required=True, help="OpenStreetMap XML file (.osm)")
    build.add_argument(
        "--route", default="", metavar="LAT,LON;LAT,LON", help="two or more waypoints, in order"
    )
    build.add_argument("--gpx", type=Path, help="a GPX track to follow instead of --route")
    build.add_argument(
        "--no-snap", action="store_true", help="follow the GPX track as recorded, not snapped"
    )
    _common_options(build, out_required=True)

    demo = commands.add_parser("demo", help="build the generated sample city (no download)")
    demo.add_argument(
        "--out-dir",
        type=Path,
        default=Path("leanroute-demo"),
        help="folder for sample.osm, demo.blend and demo-report.json (default: %(default)s)",
    )
    demo.add_argument(
        "--buildings",
        type=_at_least_one,
        metavar="N",
        help="a city of exactly N buildings, its street grid sized to fit "
        "(default: the 1.2 km sample city)",
    )
    _common_options(demo, out_required=False)
    add_batch_parser(commands)
    return parser


def _at_least_one(text: str) -> int:
    """An int >= 1 from the command line, or a usage error."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, not {text!r}")
    return value


def _common_options(parser: argparse.ArgumentParser, *, out_required: bool) -> None:
    if out_required:
        parser.add_argument("--out", type=Path, required=True, help="the .blend file to write")
        parser.add_argument("--report", type=Path, help="write the memory report (JSON) here")
    parser.add_argument("--padding", type=float, default=150.0, help="metres around the route")
    parser.add_argument("--speed", type=float, default=40.0, help="car speed, km/h")
    parser.add_argument("--fps", type=int, default=24, help="frames per second")
    parser.add_argument("--frame-start", type=int, default=1, help="first frame of the drive")
    parser.add_argument(
        "--frame-end",
        type=int,
        default=None,
        help="time the drive to end on this frame (instead of --speed)",
    )
    parser.add_argument(
        "--layers",
        default=",".join(LAYERS),
        help="comma-separated layers to build (default: %(default)s)",
    )
    parser.add_argument("--height", type=float, default=9.0, help="default building height, m")
    parser.add_argument("--car-blend", type=Path, help=".blend file holding a car object")
    parser.add_argument("--car-object", default="", help="name of the car object in --car-blend")
    parser.add_argument(
        "--no-hygiene",
        action="store_true",
        help="measure only: no cleanup between stages (for comparisons)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only errors")


def add_batch_parser(commands) -> None:
    """``leanroute batch JOBS --out DIR``: many route scenes from a jobs file."""
    batch = commands.add_parser(
        "batch",
        help="build many route scenes from a jobs file (CSV or JSON), resumable",
        description="Build every job of a jobs file (CSV or JSON: osm, waypoints or gpx, out, "
        "optional settings) into DIR. Memory stays flat between jobs; a checkpoint after "
        "every job lets a killed batch resume where it stopped. See docs/batch.md.",
    )
    batch.add_argument("jobs", type=Path, help="the jobs file (.csv or .json)")
    batch.add_argument(
        "--out", type=Path, required=True, help="folder for the outputs and the batch's state"
    )
    mode = batch.add_mutually_exclusive_group()
    mode.add_argument("--isolate", action="store_true", help="run each job in a fresh process")
    mode.add_argument(
        "--recycle-every", type=int, metavar="N", help="start a fresh process every N jobs"
    )
    batch.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="with --isolate or --recycle-every: up to N processes at once, admitted only "
        "while available memory covers the largest job's peak (default: %(default)s)",
    )
    batch.add_argument(
        "--shard", default="1/1", metavar="I/N", help="run only shard I of N (farms; 1-based)"
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
    batch.add_argument("--soft-budget", metavar="SIZE", help="RSS above which cleanup runs more")
    batch.add_argument(
        "--hard-budget",
        default="auto",
        metavar="SIZE",
        help="RSS that stops a stage (the job fails, the batch goes on); 'auto' is 80%% of "
        "the memory available at the start, 'none' is no limit (default: %(default)s)",
    )
    batch.add_argument(
        "--restart-above",
        metavar="SIZE",
        help="circuit breaker: when RSS stays above SIZE after a job's cleanup, take no more "
        "jobs in that process and go on in a fresh one (default: the hard budget)",
    )
    batch.add_argument(
        "--compare-to",
        type=Path,
        metavar="REPORT",
        help="an earlier batch report of the same jobs run with --no-hygiene: report the "
        "memory saved",
    )
    batch.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    settings = batch.add_argument_group(
        "settings for every job (a job's own column wins over these)"
    )
    settings.add_argument("--padding", type=float, help="metres around the route")
    settings.add_argument("--speed", type=float, help="car speed, km/h")
    settings.add_argument("--fps", type=int, help="frames per second")
    settings.add_argument("--frame-start", type=int, help="first frame of the drive")
    settings.add_argument("--frame-end", type=int, help="time the drive to end on this frame")
    settings.add_argument("--layers", help=f"comma-separated layers, from {', '.join(LAYERS)}")
    settings.add_argument("--height", type=float, help="default building height, m")
    settings.add_argument("--car-blend", type=Path, help=".blend file holding a car object")
    settings.add_argument("--car-object", help="name of the car object in --car-blend")
    settings.add_argument(
        "--no-snap", action="store_true", default=None, help="follow GPX tracks as recorded"
    )
    # A worker process: the coordinator passes the jobs it should run (not for users).
    batch.add_argument("--worker-jobs", help=argparse.SUPPRESS)
    batch.add_argument("--worker-parent", type=int, default=0, help=argparse.SUPPRESS)
    batch.add_argument("--worker-attempts", default="", help=argparse.SUPPRESS)
