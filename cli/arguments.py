"""The command line's arguments (plain argparse, no bpy)."""

import argparse
from pathlib import Path

from ..route.settings import LAYERS


def build_parser(prog: str = "leanroute") -> argparse.ArgumentParser:
    """The parser for ``leanroute build …`` and ``leanroute demo …``."""
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
    _common_options(demo, out_required=False)
    return parser


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
