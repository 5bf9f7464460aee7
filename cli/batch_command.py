"""``leanroute batch JOBS --out DIR``: the coordinator, or a worker process it started."""

import os
import sys
from pathlib import Path

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
    restart_above = (
        _size("--restart-above", args.restart_above) if args.restart_above else hard_limit
    )
    overrides = job_overrides(args)
    if args.worker_jobs:
        return _run_worker(args, budget, restart_above, overrides)
    options = batch_options(args, hard_limit, restart_above)
    jobs = read_jobs(args.jobs, args.out, overrides)
    if not args.quiet:
        print(_header(options, len(options.shard.select(jobs)), args.hard_budget))

    def runner():
        from ..batch.job_runner import JobRunner

        return JobRunner(
            hygiene=options.hygiene,
            budget=budget,
            reports_dir=Path(args.out) / "leanroute-batch" / "jobs",
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
    return outcome.exit_code


def batch_options(args, hard_limit: "int | None", restart_above: "int | None") -> BatchOptions:
    """Check the mode options and gather them."""
    if args.workers < 1:
        raise SettingsError("--workers", f"must be 1 or more, not {args.workers}")
    if args.recycle_every is not None and args.recycle_every < 1:
        raise SettingsError("--recycle-every", f"must be 1 or more, not {args.recycle_every}")
    mode = "isolate" if args.isolate else "recycle" if args.recycle_every else "in-process"
    if args.workers > 1 and mode == "in-process":
        raise SettingsError(
            "--workers", "runs several processes: add --isolate or --recycle-every N"
        )
    if args.compare_to is not None and not Path(args.compare_to).is_file():
        raise SettingsError("--compare-to", f"no such report: {args.compare_to}")
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
    """The stages' budget, and the hard limit in bytes for the circuit breaker."""
    soft = _size("--soft-budget", args.soft_budget) if args.soft_budget else None
    text = str(args.hard_budget).strip().lower()
    if text == "none":
        return MemoryBudget(soft=soft), None
    if text == "auto":
        rss, available = rss_bytes(), available_bytes()
        limit = int((rss + available) * DEFAULT_HARD_FRACTION) if rss and available else None
        return MemoryBudget(soft=soft, hard_fraction=DEFAULT_HARD_FRACTION), limit
    hard = _size("--hard-budget", args.hard_budget)
    return MemoryBudget(soft=soft, hard=hard), hard


def _size(option: str, text) -> int:
    try:
        return parse_size(text)
    except (TypeError, ValueError) as error:
        raise SettingsError(
            option, f"{text!r} is not a size like 2GB or 800 MiB ({error})"
        ) from None


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
        else:
            arguments += [f"--{column.replace('_', '-')}", str(value)]
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
        reports_dir=Path(args.out) / "leanroute-batch" / "jobs",
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
