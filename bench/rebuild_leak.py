"""Rebuilding the Krems scene over and over in one process: does memory grow?

Two leak checks side by side in one process (memory/'s ``leak_check``: gc + heap trim
before every reading, least-squares growth per run):

- **hygiene**: ``SceneBuild`` with the default ``CleanupPolicy`` — a rebuild removes the
  previous build's data-blocks, each stage sweeps BMeshes, collects and trims the heap;
- **no hygiene**: ``CleanupPolicy.off()`` — a rebuild deletes the previous build's objects
  the way a plain script does and leaves their meshes, curves, materials and actions as
  orphans; no collection or heap trim at boundaries.

The whole Krems extract is built (every building and road), along a 5 km route, 20 times
per variant after one warm-up build, in one process (a fresh factory scene before each
variant). Each variant's growth is the least-squares slope over the 20 settled readings;
the median single step is reported beside it. ``--repeats N`` runs N rounds, the variants
in balanced order, and reports medians over the rounds (default: one round, about 25 s).

Run: ``.venv/bin/python bench/rebuild_leak.py [--quick] [--repeats N]``.
Writes ``bench/results/rebuild_leak.json``.
"""

import gc
import itertools
import statistics
import time

import bpy
from _common import OSM_DIR, balanced_order, bench_parser, machine, mib, write_json
from report import make_row, ratio

from leanroute.memory.cleanup_policy import CleanupPolicy
from leanroute.memory.growth import DEFAULT_TOLERANCE
from leanroute.memory.leak_check import leak_check
from leanroute.route.build import SceneBuild
from leanroute.route.settings import BuildSettings

KREMS = OSM_DIR / "krems.osm"
WAYPOINTS = ((48.40768, 15.61074), (48.40685, 15.63098), (48.4059, 15.6565))
HYGIENE, OFF = "hygiene (CleanupPolicy())", "off (CleanupPolicy.off())"
VARIANTS = {HYGIENE: None, OFF: CleanupPolicy.off()}  # None: SceneBuild's default policy


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


def figures(data: dict) -> dict:
    """The row's figures of one leak check: growth per rebuild, settled level, build time."""
    steps = [b - a for a, b in itertools.pairwise(data["rss"])]
    blender_steps = [b - a for a, b in itertools.pairwise(data["blender"])]
    return {
        "rss_growth_per_rebuild_mib": data["growth"]["rss"] / 2**20,
        "blender_growth_per_rebuild_mib": data["growth"]["blender"] / 2**20,
        "rss_median_step_mib": statistics.median(steps) / 2**20,
        "blender_median_step_mib": statistics.median(blender_steps) / 2**20,
        "datablocks_growth_per_rebuild_count": data["growth"]["datablocks"],
        "rss_after_last_mib": data["rss"][-1] / 2**20,
        "blender_after_last_mib": data["blender"][-1] / 2**20,
        "build_seconds": statistics.median(data["build_seconds"]),
    }


def make_rebuild_row(runs: int, rounds: int, per_round: "dict[str, list[dict]]") -> dict:
    """The ``rebuild_growth`` row: medians over the rounds of each variant's figures."""
    variants = {
        label: {key: statistics.median(f[key] for f in rows) for key in rows[0]}
        for label, rows in per_round.items()
    }
    on, off = variants[HYGIENE], variants[OFF]
    tolerance = DEFAULT_TOLERANCE
    flat = (
        on["rss_growth_per_rebuild_mib"] * 2**20 <= tolerance["rss"]
        and on["blender_growth_per_rebuild_mib"] * 2**20 <= tolerance["blender"]
    )
    return make_row(
        "rebuild_growth",
        f"Rebuild growth: Krems rebuilt {runs} times in one process, hygiene on vs off",
        f"The whole Krems scene (1,195 buildings, 836 roads; not saved) rebuilt {runs} times "
        "in one process after a warm-up build, per variant: growth per rebuild of the RSS "
        "and of Blender's allocator (MEM_get_memory_in_use), each read after gc and a heap "
        "trim; least-squares slope over the rebuilds (memory/leak_check) and the median "
        "single step. Hygiene = SceneBuild with CleanupPolicy() (a rebuild removes the "
        "previous build's data-blocks); off = CleanupPolicy.off() (objects deleted, their "
        "data left as orphans, as a plain script does).",
        variants,
        [
            ratio(
                f"settled RSS after {runs} rebuilds, off / hygiene",
                off["rss_after_last_mib"] / on["rss_after_last_mib"],
            ),
            ratio(
                f"Blender allocator after {runs} rebuilds, off / hygiene",
                off["blender_after_last_mib"] / on["blender_after_last_mib"],
            ),
            ratio(
                "RSS growth per rebuild, off minus hygiene (MiB, a difference)",
                off["rss_growth_per_rebuild_mib"] - on["rss_growth_per_rebuild_mib"],
            ),
        ],
        rounds=rounds,
        target="hygiene flat: at most 1 MB RSS and 256 KB allocator per rebuild "
        "(leak_check's tolerance)",
        target_met=flat,
    )


def main() -> None:
    """Run both leak checks (in balanced order per round) and write the results."""
    args = bench_parser(__doc__.splitlines()[0], "3 rebuilds each instead of 20").parse_args()
    runs = 3 if args.quick else 20
    rounds = args.repeats or 1
    checks: dict[str, list[dict]] = {HYGIENE: [], OFF: []}
    # Hygiene first in round 1: nothing the other variant left behind can be in its way.
    for round_index in range(rounds):
        for label in balanced_order(list(checks), round_index):
            bpy.ops.wm.read_factory_settings(use_empty=False)
            gc.collect()
            checks[label].append(check(VARIANTS[label], runs))
    hygiene, baseline = checks[HYGIENE][-1], checks[OFF][-1]
    row = make_rebuild_row(
        runs, rounds, {label: [figures(c) for c in done] for label, done in checks.items()}
    )
    results = {
        "benchmark": "rebuild_leak",
        "machine": machine(),
        "runs": runs,
        "rounds": rounds,
        "hygiene": hygiene,
        "no_hygiene": baseline,
        "earlier_rounds": {label: done[:-1] for label, done in checks.items()},
        "growth_per_run": {
            "hygiene": hygiene["growth"],
            "no_hygiene": baseline["growth"],
        },
        "rows": [row],
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
