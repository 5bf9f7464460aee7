"""Batch throughput: 10 jobs in one process with hygiene vs one Blender process per job.

The same 10 jobs (the Lisbon, Berlin and Krems extracts in turn, padding 100-300 m, as in
``batch_memory.py``) run as ``python -m leanroute batch JOBS --out DIR --quiet``:

- **in-process**: the default: one process runs every job, hygiene between jobs;
- **isolate**: ``--isolate``: the batch process starts a fresh worker process per job.

Each batch is a fresh process started from here; the variants alternate over the rounds
(balanced order). Reported per variant, medians over the rounds:

- **jobs per minute**: 10 jobs over the wall time of the whole command, Blender's start
  included, as a user waits for it (the report's own start-to-finish interval is kept too);
- **peak RSS**: the largest per-job peak in the batch report (``jobs[].metrics.rss.peak``).
  In-process that is the one process's peak; with ``--isolate`` it is the largest
  *worker's* peak; the coordinating process is not in it. (The kernel's ``ru_maxrss`` is
  no use here: LeanRoute resets the RSS high-water mark at every stage for its own peaks.)

Run: ``.venv/bin/python bench/batch_throughput.py [--quick] [--repeats N]``.
Writes ``bench/results/batch_throughput.json``.
"""

import statistics
import tempfile
import time
from pathlib import Path

from _common import balanced_order, bench_parser, load_average, machine, write_json
from batch_memory import run_batch, write_jobs
from report import make_row, ratio

IN_PROCESS, ISOLATE = "in-process, hygiene (default)", "isolate (--isolate)"
VARIANTS = {IN_PROCESS: [], ISOLATE: ["--isolate"]}


def throughput_run(jobs: Path, out: Path, options: "list[str]") -> dict:
    """One batch in a fresh process: its wall time and figures from its report."""
    report, wall = run_batch(jobs, out, options)
    jobs_done = [job for job in report["jobs"] if job["status"] == "done"]
    if len(jobs_done) != len(report["jobs"]):
        raise SystemExit(f"not every job finished: see {out}")
    header = report["batch"]
    return {
        "wall": wall,
        "report_interval": header["finished"] - header["started"],
        "jobs": len(jobs_done),
        "processes": report["summary"]["processes"],
        "largest_job_peak_rss": max(job["metrics"]["rss"]["peak"] for job in jobs_done),
        "seconds_per_job": statistics.median(job["metrics"]["seconds"] for job in jobs_done),
    }


def main() -> None:
    """Run the rounds, print the medians, write the JSON with its row."""
    parser = bench_parser(__doc__.splitlines()[0], "3 jobs, 1 round: a smoke run")
    args = parser.parse_args()
    jobs_count = 3 if args.quick else 10
    rounds = args.repeats or (1 if args.quick else 2)
    where = machine()
    runs: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="leanroute-bench-throughput-") as folder:
        temp = Path(folder)
        jobs = write_jobs(temp / "jobs.csv", jobs_count)
        for round_index in range(rounds):
            for name in balanced_order(list(VARIANTS), round_index):
                out = temp / f"{name.split()[0].strip(',')}-{round_index}"
                runs[name].append(throughput_run(jobs, out, VARIANTS[name]))
            print(f"  round {round_index + 1}/{rounds}")
    elapsed = time.perf_counter() - started
    medians = {
        name: {key: statistics.median(run[key] for run in values) for key in values[0]}
        for name, values in runs.items()
    }
    variants = {
        name: {
            "jobs_per_min": 60.0 * m["jobs"] / m["wall"],
            "jobs_in_batch_interval_per_min": 60.0 * m["jobs"] / m["report_interval"],
            "wall_s": m["wall"],
            "peak_rss_mib": m["largest_job_peak_rss"] / 2**20,
            "processes_count": m["processes"],
        }
        for name, m in medians.items()
    }
    inside, isolate = variants[IN_PROCESS], variants[ISOLATE]
    row = make_row(
        "batch_throughput",
        f"Batch throughput: {jobs_count} jobs in one process vs one process per job",
        f"{jobs_count} route jobs (Lisbon, Berlin, Krems extracts; padding 100-300 m; saved "
        "as .blend) run by `python -m leanroute batch`, in one process with hygiene "
        "against --isolate (a fresh Blender worker per job); each batch a fresh command, "
        "the variants alternating. Jobs per minute over the command's wall time (Blender's "
        "start included). Peak RSS: the largest per-job peak in the batch report: for "
        "isolate the largest worker's peak, not counting the coordinating process.",
        variants,
        [
            ratio(
                "jobs per minute, in-process / isolate",
                inside["jobs_per_min"] / isolate["jobs_per_min"],
            ),
            ratio(
                "peak RSS, in-process / largest isolate worker",
                inside["peak_rss_mib"] / isolate["peak_rss_mib"],
            ),
        ],
        rounds=rounds,
    )
    path = write_json(
        "batch_throughput",
        {
            "benchmark": "batch_throughput",
            "quick": args.quick,
            "jobs": jobs_count,
            "rounds": rounds,
            "options": VARIANTS,
            "machine": where,
            "load_average_at_end": load_average(),
            "elapsed_seconds": elapsed,
            "medians": medians,
            "runs": runs,
            "rows": [row],
        },
    )
    for name, metrics in variants.items():
        print(
            f"{name:>30}: {metrics['jobs_per_min']:.1f} jobs/min ({metrics['wall_s']:.1f} s), "
            f"peak RSS {metrics['peak_rss_mib']:.0f} MiB"
        )
    print(f"took {elapsed:.1f} s; wrote {path}")


if __name__ == "__main__":
    main()
