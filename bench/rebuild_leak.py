"""Rebuilding the Krems scene over and over in one process: does memory grow?

Two leak checks side by side in one process (memory/'s ``leak_check``: gc + heap trim
before every reading, least-squares growth per run):

- **hygiene**: ``SceneBuild`` with the default ``CleanupPolicy`` — a rebuild removes the
  previous build's data-blocks, each stage sweeps BMeshes, collects and trims the heap;
- **no hygiene**: ``CleanupPolicy.off()`` — a rebuild deletes the previous build's objects
  the way a plain script does and leaves their meshes, curves, materials and actions as
  orphans; no collection or heap trim at boundaries.

The whole Krems extract is built (every building and road), along a 5 km route.

Run: ``.venv/bin/python bench/rebuild_leak.py [--quick]``.
Writes ``bench/results/rebuild_leak.json``.
"""

import gc
import time

import bpy
from _common import RESULTS_DIR, bench_parser, machine, mib, write_json

from leanroute.memory.cleanup_policy import CleanupPolicy
from leanroute.memory.leak_check import leak_check
from leanroute.route.build import SceneBuild
from leanroute.route.settings import BuildSettings

KREMS = RESULTS_DIR.parents[2] / "shared" / "data" / "osm" / "krems.osm"
WAYPOINTS = ((48.40768, 15.61074), (48.40685, 15.63098), (48.4059, 15.6565))


def settings() -> BuildSettings:
    """The Krems build: the whole extract around a 5 km route, not saved."""
    return BuildSettings(osm=KREMS, waypoints=WAYPOINTS, padding_m=20_000.0)


def check(policy: "CleanupPolicy | None", runs: int) -> dict:
    """Leak-check *runs* rebuilds under *policy*; the report as a dict plus timing."""
    times: list[float] = []

    def rebuild() -> None:
        started = time.perf_counter()
        SceneBuild(settings(), policy=policy).run()
        times.append(time.perf_counter() - started)

    report = leak_check(rebuild, runs=runs, warmup=1)
    data = report.to_dict()
    data["build_seconds"] = times
    data["summary"] = report.summary()
    return data


def main() -> None:
    """Run both leak checks and write the results."""
    args = bench_parser(__doc__.splitlines()[0], "3 runs each instead of 10").parse_args()
    runs = args.repeats or (3 if args.quick else 10)
    bpy.ops.wm.read_factory_settings(use_empty=False)
    hygiene = check(None, runs)
    bpy.ops.wm.read_factory_settings(use_empty=False)
    gc.collect()
    baseline = check(CleanupPolicy.off(), runs)
    results = {
        "benchmark": "rebuild_leak",
        "machine": machine(),
        "runs": runs,
        "hygiene": hygiene,
        "no_hygiene": baseline,
        "growth_per_run": {
            "hygiene": hygiene["growth"],
            "no_hygiene": baseline["growth"],
        },
    }
    path = write_json("rebuild_leak", results)
    for name, data in (("hygiene", hygiene), ("no hygiene", baseline)):
        growth = data["growth"]
        print(
            f"{name:>11}: {data['verdict']:<8} RSS {mib(growth['rss'])}/run, "
            f"Blender {mib(growth['blender'])}/run, "
            f"data-blocks {growth['datablocks']:+.1f}/run"
        )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
