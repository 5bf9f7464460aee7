"""What memory hygiene costs in a real build: Krems with CleanupPolicy() vs CleanupPolicy.off().

The whole Krems extract (every building and road, padded around a 5 km route, as in
``rebuild_leak.py``) is built with ``SceneBuild(settings, policy=P)``:

- **hygiene**: ``CleanupPolicy()``, LeanRoute's default: after every stage a full gc,
  LeanRoute's orphans removed, stage caches cleared, BMeshes swept, the heap trimmed;
- **off**: ``CleanupPolicy.off()``: measurement only (snapshots, peaks), no cleanup.

Both use the default ``GCPolicy()``. The scene is not saved: saving writes the same file in
both variants, so it would only add disk noise to a comparison of stage boundaries. Before
each build (not timed) the factory scene is loaded again and gc runs, so every build starts
from the same state. One discarded warm-up build per variant, then the rounds, interleaved
in balanced order; within a round each variant is built twice, forth and back (A B B A), and
its faster build is kept (noise on a shared machine only ever adds time, so the faster of two
back-to-back builds is the less disturbed one; ``--per-round`` changes the count). The
headline is the median over the rounds of the paired ratios hygiene / off, with their
interquartile range and range as the spread. Target: under 5 %.

Run: ``.venv/bin/python bench/hygiene_overhead.py [--quick] [--repeats N]``.
Writes ``bench/results/hygiene_overhead.json``.
"""

import gc
import statistics
import time

import bpy
from _common import balanced_order, bench_parser, load_average, machine, summarize, write_json
from rebuild_leak import settings
from report import make_row, ratio

from leanroute.memory.cleanup_policy import CleanupPolicy
from leanroute.route.build import SceneBuild

HYGIENE, OFF = "hygiene (CleanupPolicy())", "off (CleanupPolicy.off())"
VARIANTS = {HYGIENE: CleanupPolicy(), OFF: CleanupPolicy.off()}
TARGET_PERCENT = 5.0


def build_once(policy: CleanupPolicy) -> dict:
    """One Krems build from a fresh factory scene (the reset is not timed)."""
    bpy.ops.wm.read_factory_settings(use_empty=False)
    gc.collect()
    cpu_started = time.process_time()
    started = time.perf_counter()
    result = SceneBuild(settings(), policy=policy).run()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    stages = result.report.stages
    return {
        "wall": wall,
        "cpu": cpu,
        "boundaries": sum(s.boundary_seconds for s in stages),
        "bodies": sum(s.wall_seconds for s in stages),
        "cleanup": sum(s.cleanup.seconds for s in stages),
    }


def measure(rounds: int, per_round: int) -> "tuple[dict[str, list[dict]], dict]":
    """A warm-up build of each variant, then *rounds* rounds of *per_round* builds each.

    Within a round the order runs forth and back (A B B A), and each variant keeps its
    fastest build of the round: on a shared machine noise only ever makes a build slower,
    so the faster of two back-to-back builds is the less disturbed one. Returns the kept
    builds per variant and every build.
    """
    labels = list(VARIANTS)
    for label in labels:
        build_once(VARIANTS[label])
    kept: dict[str, list[dict]] = {label: [] for label in labels}
    every: dict[str, list[list[dict]]] = {label: [] for label in labels}
    for round_index in range(rounds):
        order = balanced_order(labels, round_index)
        builds: dict[str, list[dict]] = {label: [] for label in labels}
        for repeat in range(per_round):
            for label in order if repeat % 2 == 0 else order[::-1]:
                builds[label].append(build_once(VARIANTS[label]))
        for label in labels:
            kept[label].append(min(builds[label], key=lambda b: b["wall"]))
            every[label].append(builds[label])
        print(f"  round {round_index + 1}/{rounds}")
    return kept, every


def main() -> None:
    """Measure, print the overhead, write the JSON with its row."""
    parser = bench_parser(__doc__.splitlines()[0], "3 rounds of 1 build instead of 16 of 2")
    parser.add_argument(
        "--per-round", type=int, default=None, help="builds per variant per round (default 2)"
    )
    args = parser.parse_args()
    rounds = args.repeats or (3 if args.quick else 16)
    per_round = args.per_round or (1 if args.quick else 2)
    where = machine()
    started = time.perf_counter()
    runs, every = measure(rounds, per_round)
    elapsed = time.perf_counter() - started
    stats = {
        label: {key: summarize([r[key] for r in results]) for key in results[0]}
        for label, results in runs.items()
    }
    paired = summarize(
        [h["wall"] / o["wall"] for h, o in zip(runs[HYGIENE], runs[OFF], strict=True)]
    )
    paired_cpu = summarize(
        [h["cpu"] / o["cpu"] for h, o in zip(runs[HYGIENE], runs[OFF], strict=True)]
    )
    overhead = 100.0 * (paired["median"] - 1.0)
    # The cleanup's own time, timed inside the boundaries: a low-noise view of the same cost.
    cleanup_share = (
        100.0
        * (stats[HYGIENE]["cleanup"]["median"] - stats[OFF]["cleanup"]["median"])
        / stats[OFF]["wall"]["median"]
    )
    row = make_row(
        "hygiene_overhead",
        "Hygiene overhead: Krems build, default CleanupPolicy vs hygiene off",
        "Wall time of one whole Krems build (SceneBuild, not saved; 1,195 buildings, 836 "
        "roads) with LeanRoute's default CleanupPolicy() against CleanupPolicy.off(), both "
        "with the default GCPolicy(); a fresh factory scene before each build. Each round "
        f"builds each variant {per_round} times (order A B B A) and keeps its faster build; "
        "the ratio is the median over the rounds of the paired (same-round) ratios.",
        {
            label: {
                "seconds": stats[label]["wall"]["median"],
                "cpu_s": stats[label]["cpu"]["median"],
                "stage_boundaries_s": stats[label]["boundaries"]["median"],
                "cleanup_s": stats[label]["cleanup"]["median"],
            }
            for label in VARIANTS
        },
        [
            ratio(
                "build time, hygiene / off (median paired ratio, IQR)",
                paired["median"],
                (paired["q1"], paired["q3"]),
            ),
            ratio(
                "same, full range of the paired ratios",
                paired["median"],
                (paired["min"], paired["max"]),
            ),
            ratio(
                "CPU time, hygiene / off (IQR)",
                paired_cpu["median"],
                (paired_cpu["q1"], paired_cpu["q3"]),
            ),
            ratio("overhead, percent (median paired)", overhead),
            ratio("cleanup work alone, percent of the build without hygiene", cleanup_share),
        ],
        rounds=rounds,
        target=f"under {TARGET_PERCENT:g} % overhead",
        target_met=overhead < TARGET_PERCENT,
    )
    path = write_json(
        "hygiene_overhead",
        {
            "benchmark": "hygiene_overhead",
            "quick": args.quick,
            "rounds": rounds,
            "builds_per_variant_per_round": per_round,
            "policies": {label: policy.to_dict() for label, policy in VARIANTS.items()},
            "machine": where,
            "load_average_at_end": load_average(),
            "elapsed_seconds": elapsed,
            "stats": stats,
            "paired_ratio_wall": paired,
            "paired_ratio_cpu": paired_cpu,
            "overhead_percent": overhead,
            "cleanup_share_percent": cleanup_share,
            "runs": runs,
            "every_build": every,
            "rows": [row],
        },
    )
    for label in VARIANTS:
        wall = stats[label]["wall"]
        print(
            f"{label:>26}: build {wall['median']:.3f} s (IQR {wall['q1']:.3f}-{wall['q3']:.3f}), "
            f"boundaries {statistics.median(r['boundaries'] for r in runs[label]):.3f} s"
        )
    print(
        f"hygiene / off: {paired['median']:.3f} (IQR {paired['q1']:.3f}-{paired['q3']:.3f}, "
        f"range {paired['min']:.3f}-{paired['max']:.3f}); overhead {overhead:+.1f} % "
        f"(target under {TARGET_PERCENT:g} %: {'met' if overhead < TARGET_PERCENT else 'NOT met'})"
    )
    print(f"took {elapsed:.1f} s; wrote {path}")


if __name__ == "__main__":
    main()
