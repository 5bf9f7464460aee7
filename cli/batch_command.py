"""``leanroute batch JOBS --out DIR``: the coordinator, or a worker process it started."""

import os
import sys
from pathlib import Path

from ..batch.batch_paths import BatchPaths
from ..batch.coordinator import BatchOptions, Coordinator
from ..batch.jobs_file import SETTING_COLUMNS, read_jobs
from ..batch.sharding import Shard
from ..memory.budget import DEFAULT_HARD_FRACTION, MemoryBudget
from ..memory.process_memory import available_bytes, rss_bytes
from ..memory.units import format_bytes, parse_size
from ..route.errors import SettingsError

#: The shell's convention for a run stopped by Ctrl+C.
EXIT_INTERRUPTED = 130

#: Every per-job setting but ``snap`` (``--no-snap``) has an option of the column's name.
OVERRIDES = tuple(column for column in SETTING_COLUMNS if column != "snap")


def run_batch(args) -> int:
    """Run a batch (or, with the hidden ``--worker-jobs``, the jobs a coordinator handed over)."""
    budget, hard_limit = resolve_budget(args)
    # Not held to a floor: a tiny one restarts the process after every job, as tests want.
    restart_above = parse_size(args.restart_above) if args.restart_above else hard_limit
    overrides = job_overrides(args)
    if args.worker_jobs:
        return _run_worker(args, budget, restart_above, overrides)
    options = batch_options(args, hard_limit, restart_above)
    check_batch_folder(args)
    jobs = read_jobs(args.jobs, args.out, overrides)
    check_inputs_outside_state(args, jobs)
    if not args.quiet:
        print(_header(options, len(options.shard.select(jobs)), args.hard_budget))

    def runner():
        from ..batch.job_runner import JobRunner

        return JobRunner(
            hygiene=options.hygiene,
            budget=budget,
            reports_dir=BatchPaths(options.out_dir).job_reports,
        )

    def worker_command(extra: list[str]) -> list[str]:
        from ..batch.launcher import worker_command as command

        return command([*worker_arguments(args, restart_above), *extra])

    coordinator = Coordinator(options, jobs, runner_factory=runner, worker_command=worker_command)
    try:
        outcome = coordinator.run()
    except KeyboardInterrupt:
        # The running job was rolled back; the checkpoint has every finished one.
        print(
            "leanroute: batch interrupted; run the same command again to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if outcome.restart:
        from ..batch.launcher import restart_process

        restart_process(options.restarts + 1)
    if not args.quiet:
        print("\n".join(outcome.lines))
    else:  # --quiet drops the summary, not the errors: each failed job on stderr
        for line in outcome.lines:
            if line.startswith(("failed: ", "batch: stopped: ")):
                print(f"leanroute: {line}", file=sys.stderr)
    return outcome.exit_code


def batch_options(args, hard_limit: "int | None", restart_above: "int | None") -> BatchOptions:
    """Check the mode options and gather them."""
    mode = "isolate" if args.isolate else "recycle" if args.recycle_every else "in-process"
    if args.workers > 1 and mode == "in-process":
        raise SettingsError(
            "--workers", "runs several processes: add --isolate or --recycle-every N"
        )
    if args.compare_to is not None:
        check_compare_to(args)
    return BatchOptions(
        jobs_file=Path(args.jobs).resolve(),
        out_dir=Path(args.out).resolve(),
        mode=mode,
        recycle_every=args.recycle_every or 1,
        workers=args.workers,
        hygiene=not args.no_hygiene,
        fail_fast=args.fail_fast,
        retry_failed=args.retry_failed,
        shard=Shard.parse(args.shard),
        restart_above=restart_above,
        hard_budget=hard_limit,
        compare_to=args.compare_to,
        quiet=args.quiet,
        restarts=int(os.environ.get("LEANROUTE_BATCH_RESTARTS", "0") or 0),
    )


def resolve_budget(args) -> "tuple[MemoryBudget, int | None]":
    """The stages' budget, and the hard limit in bytes for the circuit breaker.

    A budget this process is already over would stop every stage at once: refused, as a
    soft budget at or above the hard one (it could never act first).
    """
    soft = _size("--soft-budget", args.soft_budget) if args.soft_budget else None
    text = str(args.hard_budget).strip().lower()
    if text == "none":
        return MemoryBudget(soft=soft), None
    if text == "auto":
        rss, available = rss_bytes(), available_bytes()
        limit = int((rss + available) * DEFAULT_HARD_FRACTION) if rss and available else None
        return MemoryBudget(soft=soft, hard_fraction=DEFAULT_HARD_FRACTION), limit
    hard = _size("--hard-budget", args.hard_budget)
    if soft is not None and soft >= hard:
        raise SettingsError(
            "--soft-budget",
            f"{format_bytes(soft)} is not below --hard-budget ({format_bytes(hard)}): the soft "
            "budget asks for more cleanup before the hard one stops a stage; give a smaller one",
        )
    return MemoryBudget(soft=soft, hard=hard), hard


def _size(option: str, text) -> int:
    """Bytes of a size option, refused if this process alone already uses more."""
    try:
        value = parse_size(text)
    except (TypeError, ValueError):
        raise SettingsError(
            option, f"{text!r} is not a size: give a number and a unit, e.g. 2GB or 800 MiB"
        ) from None
    floor = max(rss_bytes() or 0, BLENDER_START_BYTES)
    if value <= floor:
        raise SettingsError(
            option,
            f"{format_bytes(value)} is less than a Blender process takes before any build "
            f"(about {format_bytes(floor)}): {_BELOW_RSS[option]}; give more (e.g. 2GB)",
        )
    return value


#: What a Blender process takes before it builds anything (bpy 5.0 module 258 MiB, the 3.4
#: binary 235 MiB): a budget below it cannot be kept.
BLENDER_START_BYTES = 256 * 1024**2


#: What a size below the process's own memory would do, by option.
_BELOW_RSS = {
    "--hard-budget": "every stage would stop at once",
    "--soft-budget": "every stage would run the extra cleanup for nothing",
}


def check_batch_folder(args) -> None:
    """Refuse an ``--out`` that is not a folder (or a new name for one) before anything runs.

    Its state folder and subfolders, which the batch creates and writes, are checked as
    well, and the jobs file must not lie inside the state folder, which the batch rewrites.
    """
    from ..batch.batch_paths import BatchPaths
    from ..route.build_paths import check_blend_file
    from ..route.input_files import check_input_file
    from ..route.output_paths import check_folder

    check_input_file(args.jobs, "a jobs file (.csv or .json)", "the jobs file")
    if args.car_blend is not None:  # every job's car: checked once, before any runs
        check_blend_file(args.car_blend, "--car-blend")
    out = Path(args.out)
    check_folder("--out", out, may_create=True)
    paths = BatchPaths(out, Shard.parse(args.shard))
    for folder in (paths.state, paths.job_reports, paths.logs, paths.claims):
        check_folder("--out", folder, may_create=True)
    if _inside(args.jobs, paths.state):
        raise SettingsError(
            "--out",
            f"the jobs file {_named(args.jobs)} is inside {paths.state}, the folder the batch "
            "keeps its own state in and rewrites: move the jobs file or choose another --out",
        )


def check_inputs_outside_state(args, jobs) -> None:
    """Refuse jobs whose inputs lie in the batch's state folder (the batch rewrites it)."""
    from ..batch.batch_paths import STATE_FOLDER

    state = Path(args.out) / STATE_FOLDER
    for job in jobs:
        settings = job.settings
        for column, path in (("osm", settings.osm), ("gpx", settings.gpx)):
            if path is not None and _inside(path, state):
                raise SettingsError(
                    column,
                    f"{job.where}: {_named(path)} is inside {state}, the folder the batch keeps "
                    "its own state in and rewrites: move the file or choose another --out",
                )
        if settings.car_blend is not None and _inside(settings.car_blend, state):
            raise SettingsError(
                "car_blend",
                f"{job.where}: {_named(settings.car_blend)} is inside {state}, the folder the "
                "batch rewrites: move the file or choose another --out",
            )


def check_compare_to(args) -> None:
    """Read ``--compare-to`` now, so a wrong file is refused before the batch runs."""
    from ..batch.batch_paths import BatchPaths
    from ..batch.batch_report import read_batch_report
    from ..route.input_files import check_input_file

    report = BatchPaths(Path(args.out), Shard.parse(args.shard)).report
    if _same_file(args.compare_to, report):
        raise SettingsError(
            "--compare-to",
            f"{args.compare_to} is this batch's own report, which the run replaces: compare "
            "with the report of a --no-hygiene run into another --out",
        )
    check_input_file(args.compare_to, "a batch report (.json)", "--compare-to")
    try:
        read_batch_report(args.compare_to)
    except (RecursionError, ValueError) as error:  # nested too deep, numbers too long
        raise SettingsError(
            "--compare-to", f"{args.compare_to} is not a LeanRoute batch report ({error})"
        ) from None


def _inside(path, folder: Path) -> bool:
    """Whether *path* (links followed) lies in *folder* (links followed)."""
    real, real_folder = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return real_folder in real.parents


def _named(path) -> str:
    """*path*, and where it leads when it is (or passes through) a link."""
    real = os.path.realpath(path)
    return str(path) if real == os.path.abspath(path) else f"{path} (a link to {real})"


def _same_file(one, other) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return os.path.realpath(one) == os.path.realpath(other)


def job_overrides(args) -> dict:
    """Settings given on the command line, as jobs-file columns."""
    overrides = {
        column: getattr(args, column) for column in OVERRIDES if getattr(args, column) is not None
    }
    if args.no_snap:
        overrides["snap"] = False
    return overrides


def worker_arguments(args, restart_above: "int | None") -> list[str]:
    """The command line a worker process gets, before its job ids."""
    arguments = ["--debug"] if args.debug else []
    arguments += [
        "batch",
        str(Path(args.jobs).resolve()),
        "--out",
        str(Path(args.out).resolve()),
        "--hard-budget",
        str(args.hard_budget),
        "--quiet",
    ]
    if args.soft_budget:
        arguments += ["--soft-budget", str(args.soft_budget)]
    if restart_above is not None:
        arguments += ["--restart-above", str(restart_above)]
    for flag, on in (("--no-hygiene", args.no_hygiene), ("--fail-fast", args.fail_fast)):
        if on:
            arguments.append(flag)
    for column, value in job_overrides(args).items():
        if column == "snap":  # only ever set to False, by --no-snap
            arguments.append("--no-snap")
        else:  # "=": a negative value is the option's, not taken for another option
            arguments.append(f"--{column.replace('_', '-')}={value}")
    return arguments


def _run_worker(args, budget: MemoryBudget, restart_above, overrides: dict) -> int:
    from ..batch.circuit_breaker import CircuitBreaker
    from ..batch.job_runner import JobRunner
    from ..batch.worker_loop import run_jobs
    from ..batch.worker_process import die_with_parent
    from ..batch.worker_protocol import encode

    die_with_parent(args.worker_parent)
    jobs = {job.id: job for job in read_jobs(args.jobs, args.out, overrides)}
    wanted = [job_id for job_id in args.worker_jobs.split(",") if job_id]
    missing = [job_id for job_id in wanted if job_id not in jobs]
    if missing:
        raise SettingsError("--worker-jobs", f"no such job(s) in {args.jobs}: {missing}")
    attempts = {}
    for item in filter(None, args.worker_attempts.split(",")):
        job_id, _, count = item.partition("=")
        attempts[job_id] = int(count)
    runner = JobRunner(
        hygiene=not args.no_hygiene,
        budget=budget,
        reports_dir=BatchPaths(Path(args.out).resolve()).job_reports,
    )

    def sink(event: str, **fields) -> None:
        sys.stdout.write(encode(event, {**fields, "pid": os.getpid()}) + "\n")
        sys.stdout.flush()

    run_jobs(
        [jobs[job_id] for job_id in wanted],
        runner,
        sink,
        breaker=CircuitBreaker(restart_above),
        fail_fast=args.fail_fast,
        attempts=attempts,
    )
    return 0


def _header(options: BatchOptions, count: int, hard_text: str) -> str:
    mode = {
        "in-process": "in one process",
        "isolate": "a fresh process per job",
        "recycle": f"a fresh process every {options.recycle_every} jobs",
    }[options.mode]
    if options.workers > 1:
        mode += f", up to {options.workers} at once"
    shard = "" if options.shard.whole else f" (shard {options.shard})"
    hygiene = "hygiene on" if options.hygiene else "hygiene OFF (baseline)"
    limit = format_bytes(options.hard_budget) if options.hard_budget else "none"
    if str(hard_text).lower() == "auto" and options.hard_budget:
        limit += " (auto)"
    restarted = f"; restart {options.restarts}" if options.restarts else ""
    return (
        f"LeanRoute batch: {count} jobs{shard} from {options.jobs_file.name} into "
        f"{options.out_dir}\n  {mode}, {hygiene}, hard budget {limit}{restarted}; "
        "map data © OpenStreetMap contributors"
    )
