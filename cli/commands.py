"""What each command does; :func:`main` is the one entry point of every launcher."""

import sys
import traceback
from pathlib import Path

from ..progress.build_summary import summary_lines
from ..route.errors import LeanRouteError, SettingsError, describe, os_error_line
from ..route.interrupts import (
    Interrupted,
    deferred,
    interruptible,
    python_signals,
    raise_if_interrupted,
    received,
    signals_handled,
)
from ..route.kill_points import reached
from .arguments import OPTION_OF_FIELD, build_parser, join_option_values
from .interrupted import missing_folders, put_back_if_interrupted, report_interrupt, start_blender

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: "list[str] | None" = None, *, prog: str = "leanroute") -> int:
    """Run one command line; returns the exit code.

    0 ok, 1 failed, 2 bad usage, 130 interrupted by Ctrl+C, 143 by SIGTERM (nothing written).
    """
    # Ctrl+C and SIGTERM stop the command where it can roll back (cli/interrupted.py).
    with signals_handled():
        try:
            with interruptible():
                reached("arguments")
                parser = build_parser(prog)
                arguments = sys.argv[1:] if argv is None else list(argv)
                args = parser.parse_args(join_option_values(arguments, parser))
        except SystemExit as stop:  # argparse already printed the problem (or the help)
            return int(stop.code or 0) and EXIT_USAGE
        except Interrupted as stop:
            return report_interrupt(prog, stop)
        try:
            with interruptible():
                return run_command(args)
        except Interrupted as stop:
            return report_interrupt(prog, stop, debug=args.debug)
        except (LeanRouteError, MemoryError, OSError) as error:
            return _fail(prog, error, args.debug)
        except Exception as error:  # a bug: still one line, the traceback on request
            return _fail(prog, error, args.debug, unexpected=True)


def run_command(args) -> int:
    """Run the parsed command line's command; returns its exit code."""
    if args.command == "demo":
        return run_demo(args)
    if args.command == "batch":
        from .batch_command import run_batch

        with python_signals():  # batch has its own Ctrl+C handling (docs/batch.md)
            return run_batch(args)
    return run_build(args)


def _fail(prog: str, error: BaseException, debug: bool, *, unexpected: bool = False) -> int:
    if received() is not None:
        # The build was failing as the signal came (the rollback went first): say why it
        # stopped as for any interrupt, with its exit code.
        return report_interrupt(prog, Interrupted(received()), debug=debug)
    if debug:
        traceback.print_exception(error)
    message = describe(error)
    if isinstance(error, SettingsError) and error.setting in OPTION_OF_FIELD:
        # Name the option the user typed, not the settings field behind it.
        message = f"{OPTION_OF_FIELD[error.setting]}: {error.reason}"
    hint = " (--debug shows the traceback)" if unexpected and not debug else ""
    print(f"{prog}: error: {message}{hint}", file=sys.stderr)
    # An error listing several problems (a jobs file's bad rows) prints every one.
    for line in str(error).splitlines()[1:] if getattr(error, "problems", None) else ():
        print(line, file=sys.stderr)
    return EXIT_FAILED


def settings_from(args, **paths):
    """BuildSettings from parsed arguments plus *paths* (osm, waypoints, gpx, out, report)."""
    from ..route.settings import BuildSettings

    layers = frozenset(part.strip() for part in args.layers.split(",") if part.strip())
    return BuildSettings(
        padding_m=args.padding,
        speed_kmh=args.speed,
        fps=args.fps,
        frame_start=args.frame_start,
        frame_end=args.frame_end,
        layers=layers,
        default_height_m=args.height,
        car_blend=args.car_blend,
        car_object=args.car_object,
        **paths,
    )


def run_build(args) -> int:
    """``build``: the user's OSM file and route."""
    from ..route.build_paths import check_build_paths
    from ..route.input_files import check_input_file
    from ..route.routing import parse_waypoints

    if not args.route and args.gpx is None:
        raise SettingsError("--route", 'give waypoints ("lat,lon;lat,lon") or --gpx FILE')
    waypoints = tuple(parse_waypoints(args.route)) if args.route else ()
    settings = settings_from(
        args,
        osm=args.osm,
        waypoints=waypoints,
        gpx=args.gpx,
        snap_gpx=not args.no_snap,
        out=args.out,
        report=args.report,
    )
    # Before anything is read, built or written: the inputs are files, the outputs safe.
    check_input_file(args.osm, "an OSM file", "--osm")
    if args.gpx is not None:
        check_input_file(args.gpx, "a GPX file", "--gpx")
    check_build_paths(settings, OPTION_OF_FIELD)
    _run(settings, args)
    return EXIT_OK


#: The files ``demo`` writes into its folder.
DEMO_FILES = {"sample.osm": ".osm", "demo.blend": ".blend", "demo-report.json": ".json"}


def run_demo(args) -> int:
    """``demo``: write the sample city, build it, save the .blend and the report."""
    from ..route.atomic_files import stale_temporaries_in
    from ..route.build_paths import check_blend_file
    from ..route.demo_forecast import check_sample_city
    from ..route.output_paths import Output, check_folder, check_outputs
    from ..route.sample_city import write_sample_city

    out_dir: Path = args.out_dir
    # Every setting and file checked before the folder is made or the city written.
    placeholder = ((0.0, 0.0), (0.0, 0.001))  # the city's own route comes with it
    settings = settings_from(args, osm=out_dir / "sample.osm", waypoints=placeholder)
    if settings.car_blend is not None:
        check_blend_file(settings.car_blend, "--car-blend")
    check_folder("--out-dir", out_dir, may_create=True)
    outputs = [
        # Names the user did not choose: only a new name or an earlier run's plain file.
        Output(
            f"--out-dir ({name})",
            out_dir / name,
            suffix,
            by_blender=suffix == ".blend",
            named_in="--out-dir",
        )
        for name, suffix in DEMO_FILES.items()
    ]
    check_outputs(outputs, [("--car-blend", settings.car_blend)], may_create=True)
    # A city too large for the disk or the memory budget is refused from N alone, unwritten.
    check_sample_city(args.buildings, settings, out_dir)
    # What a killed demo left beside its files: their temporaries, a sample city it kept.
    stale = stale_temporaries_in(out_dir)
    for temporary in (path for name in DEMO_FILES for path in stale.get(name, ())):
        temporary.unlink(missing_ok=True)
    # Interrupted before its build is saved, the demo leaves the folder as it found it.
    with put_back_if_interrupted(out_dir / "sample.osm", missing_folders(out_dir)):
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SettingsError("--out-dir", os_error_line(error, out_dir, writing=True)) from None
        city = write_sample_city(out_dir / "sample.osm", buildings=args.buildings)
        settings = settings.but(
            osm=city.path,
            waypoints=city.waypoints,
            out=out_dir / "demo.blend",
            report=out_dir / "demo-report.json",
        )
        _run(settings, args, credit=" (the generated sample city: synthetic, not OSM data)")
    return EXIT_OK


def _run(settings, args, *, credit: str = " (map data © OpenStreetMap contributors)") -> None:
    from ..memory.cleanup_policy import CleanupPolicy

    start_blender()
    from ..route.build import SceneBuild

    policy = CleanupPolicy.off() if args.no_hygiene else None
    say = (lambda *_: None) if args.quiet else print
    say(f"LeanRoute: building {settings.osm}{credit}")
    # The build says where a signal may stop it: in a stage's body, or before its commit.
    with deferred():
        result = SceneBuild(settings, policy=policy, on_stage=_stage_point).run()
    say(result.report.table())
    say(summary(result))
    raise_if_interrupted()  # one that came while the outputs were renamed: it names them


def _stage_point(name: str, _index: int, _count: int) -> None:
    reached("stage", name)


def summary(result) -> str:
    """A few lines on what the build made and where it went."""
    lines = summary_lines(result.results)
    if result.out is not None:
        lines.append(f"saved: {result.out}")
    if result.report_path is not None:
        lines.append(f"report: {result.report_path}")
    return "\n".join(lines)
