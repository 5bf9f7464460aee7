"""A batch of 20 route scenes over the Lisbon, Berlin and Krems extracts, in one process.

Two variants, each a whole batch run as its own fresh process (``python -m leanroute
batch``), interleaved over the rounds:

- **hygiene**: the default, cleanup between stages and jobs;
- **no hygiene**: ``--no-hygiene``, the way a plain script runs jobs in one process.

Reported per variant (medians over the rounds): RSS and Blender's allocator growth per job
after the first (least squares over the settled figure after each job), the first job's
warm-up, peak RSS, seconds per job; and the memory hygiene saved
(``memory_usage_reduction_mb``). The last round's memory timeline charts are copied to
``bench/results/batch-memory-*.svg``.

Run: ``.venv/bin/python bench/batch_memory.py [--quick] [--repeats N]``.
Writes ``bench/results/batch_memory.json``.
"""

import csv
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    OSM_DIR,
    REPO_DIR,
    RESULTS_DIR,
    balanced_order,
    bench_parser,
    machine,
    mib,
    write_json,
)
from report import make_row, ratio

from leanroute.memory.growth import DEFAULT_TOLERANCE

CITIES = (
    ("lisbon", "lisbon_avenidas_novas.osm", "38.7355,-9.1465;38.7327,-9.1432"),
    ("berlin", "berlin_mitte_kreuzberg.osm", "52.5120,13.3880;52.5066,13.3990"),
    ("krems", "krems.osm", "48.40768,15.61074;48.40685,15.63098;48.4059,15.6565"),
)
VARIANTS = {"hygiene": [], "no hygiene": ["--no-hygiene"]}


def write_jobs(path: Path, count: int) -> Path:
    """*count* jobs cycling over the three extracts, padding 100-300 m."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "osm", "waypoints", "padding"])
        for k in range(count):
            name, osm, waypoints = CITIES[k % len(CITIES)]
            writer.writerow([f"{name}-{k + 1:02d}", OSM_DIR / osm, waypoints, 100 + 50 * (k % 5)])
    return path


def run_batch(jobs: Path, out: Path, options: "list[str]") -> "tuple[dict, float]":
    """One batch in a fresh process: its report and its wall time (s).

    Its output goes to ``<out>.log``, shown if it fails.
    """
    command = [sys.executable, "-m", "leanroute", "batch", str(jobs), "--out", str(out)]
    log = out.with_suffix(".log")
    with open(log, "w", encoding="utf-8") as output:
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "--quiet", *options],
            cwd=REPO_DIR,
            stdout=output,
            stderr=output,
            check=False,
        )
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"batch failed ({done.returncode}):\n{log.read_text()}")
    return json.loads((out / "leanroute-batch" / "report.json").read_text()), wall


def figures(report: dict) -> dict:
    """The figures one run contributes."""
    summary = report["summary"]
    seconds = [job["metrics"]["seconds"] for job in report["jobs"]]
    return {
        "rss_growth_per_job": summary["rss"]["per_job"],
        "blender_growth_per_job": summary["blender"]["per_job"],
        "rss_first_job": summary["rss"]["first_job"],
        "rss_total_growth": summary["rss"]["total"],
        "peak_rss": summary["rss"]["peak"],
        "seconds_per_job": statistics.median(seconds),
    }


def make_batch_row(jobs_count: int, rounds: int, medians: dict) -> dict:
    """The ``batch_memory`` row from the medians over the rounds."""
    labels = {"hygiene": "hygiene (default)", "no hygiene": "no hygiene (--no-hygiene)"}
    variants = {
        labels[label]: {
            "rss_growth_per_job_mib": m["rss_growth_per_job"] / 2**20,
            "blender_growth_per_job_mib": m["blender_growth_per_job"] / 2**20,
            "rss_first_job_mib": m["rss_first_job"] / 2**20,
            "rss_total_growth_mib": m["rss_total_growth"] / 2**20,
            "peak_rss_mib": m["peak_rss"] / 2**20,
            "job_time_s": m["seconds_per_job"],
        }
        for label, m in medians.items()
    }
    on, off = medians["hygiene"], medians["no hygiene"]
    flat = (
        on["rss_growth_per_job"] <= DEFAULT_TOLERANCE["rss"]
        and on["blender_growth_per_job"] <= DEFAULT_TOLERANCE["blender"]
    )
    return make_row(
        "batch_memory",
        f"Batch memory: {jobs_count} jobs in one process, hygiene vs no hygiene",
        f"{jobs_count} route jobs (Lisbon, Berlin, Krems extracts; padding 100-300 m) run "
        "by `python -m leanroute batch` in one process, with hygiene (the default) against "
        "--no-hygiene; each batch a fresh command, the variants alternating. Growth per "
        "job: least-squares slope of the settled RSS / Blender allocator after each job, "
        "jobs 2 on (the first job is the warm-up); peak: the highest RSS over all jobs.",
        variants,
        [
            ratio("peak RSS, no hygiene / hygiene", off["peak_rss"] / on["peak_rss"]),
            ratio(
                "RSS growth over the batch, no hygiene / hygiene",
                off["rss_total_growth"] / on["rss_total_growth"],
            ),
            ratio(
                "RSS growth per job, no hygiene minus hygiene (MiB, a difference)",
                (off["rss_growth_per_job"] - on["rss_growth_per_job"]) / 2**20,
            ),
        ],
        rounds=rounds,
        target="hygiene flat: at most 1 MB RSS and 256 KB allocator per job after the first "
        "(leak_check's tolerance)",
        target_met=flat,
    )


def main() -> None:
    """Run the rounds, print the medians, write the JSON."""
    parser = bench_parser(__doc__.splitlines()[0], "5 jobs, 1 round: a smoke run")
    args = parser.parse_args()
    jobs_count = 5 if args.quick else 20
    rounds = args.repeats or (1 if args.quick else 2)
    runs: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="leanroute-bench-batch-") as folder:
        temp = Path(folder)
        jobs = write_jobs(temp / "jobs.csv", jobs_count)
        for round_index in range(rounds):
            for name in balanced_order(list(VARIANTS), round_index):
                out = temp / f"{name.replace(' ', '-')}-{round_index}"
                report, _ = run_batch(jobs, out, VARIANTS[name])
                runs[name].append(figures(report))
                chart = out / "leanroute-batch" / "memory-timeline.svg"
                shutil.copyfile(chart, RESULTS_DIR / f"batch-memory-{name.replace(' ', '-')}.svg")
    medians = {
        name: {key: statistics.median(run[key] for run in values) for key in values[0]}
        for name, values in runs.items()
    }
    on, off = medians["hygiene"], medians["no hygiene"]
    saved = {
        "peak": round((off["peak_rss"] - on["peak_rss"]) / 1e6, 2),
        "growth_per_job": round((off["rss_growth_per_job"] - on["rss_growth_per_job"]) / 1e6, 2),
        "total_growth": round((off["rss_total_growth"] - on["rss_total_growth"]) / 1e6, 2),
    }
    path = write_json(
        "batch_memory",
        {
            "what": f"{jobs_count} jobs over the Lisbon, Berlin and Krems extracts in one "
            "process, hygiene on vs off; each batch a fresh process",
            "jobs": jobs_count,
            "rounds": rounds,
            "medians": medians,
            "memory_usage_reduction_mb": saved,
            "runs": runs,
            "machine": machine(),
            "rows": [make_batch_row(jobs_count, rounds, medians)],
        },
    )
    for name, values in medians.items():
        print(
            f"{name:>10}: RSS {mib(values['rss_growth_per_job'])}/job after the first "
            f"(first job {mib(values['rss_first_job'])}), allocator "
            f"{mib(values['blender_growth_per_job'])}/job, peak {mib(values['peak_rss'])}, "
            f"{values['seconds_per_job']:.2f} s/job"
        )
    print(f"memory_usage_reduction_mb: {saved}")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
