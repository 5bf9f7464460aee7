"""GC tuning in a real build: Krems parse + build under each GCPolicy vs Python's default.

LeanRoute's own ``SceneBuild(settings, gc_policy=P)`` builds the whole Krems extract (every
building and road around a 5 km route, as in ``rebuild_leak.py``; not saved), with the
default ``CleanupPolicy()``, for P in:

- **Python default**: ``GCPolicy(freeze=False)``: the collector left exactly as Python sets
  it (the baseline);
- **GCPolicy()**: LeanRoute's default: ``gc.freeze()`` when the pipeline starts, so the
  full collections at stage boundaries skip the ~70,000 objects of bpy and add-ons;
- **tuned + freeze**: ``GCPolicy(mode="tuned")``: the freeze plus raised thresholds
  (50,000 / 50 / 100) inside each stage.

Before each build (not timed) the factory scene is loaded again and gc runs. One discarded
warm-up build per variant, then the rounds, interleaved in balanced order. Reported: the
median build time (parse + every build stage), the parse stage alone, the time in stage
boundaries, peak RSS, automatic collections; and each policy's paired ratio to Python's
default (same round), with its IQR.

(``gc_policy.py`` runs these policies and more, such as the tuned thresholds without the
freeze, on a synthetic look-alike of the import, with an A/A control and a sign test; this
script is the real build. Six rounds are one full cycle of the balanced order for three
variants.)

Run: ``.venv/bin/python bench/gc_build.py [--quick] [--repeats N]``.
Writes ``bench/results/gc_build.json``.
"""

import gc
import time

import bpy
from _common import balanced_order, bench_parser, load_average, machine, summarize, write_json
from rebuild_leak import settings
from report import make_row, ratio

from leanroute.memory.gc_policy import GCPolicy
from leanroute.route.build import SceneBuild

BASELINE = "Python default (GCPolicy(freeze=False))"
VARIANTS = {
    BASELINE: GCPolicy(freeze=False),
    "GCPolicy() (LeanRoute default: freeze)": GCPolicy(),
    'tuned + freeze (GCPolicy(mode="tuned"))': GCPolicy(mode="tuned"),
}
KEYS = ("wall", "cpu", "parse", "boundaries", "peak_rss")


def _collections() -> "list[int]":
    return [generation["collections"] for generation in gc.get_stats()]


def build_once(policy: GCPolicy) -> dict:
    """One Krems build from a fresh factory scene under *policy* (the reset is not timed)."""
    bpy.ops.wm.read_factory_settings(use_empty=False)
    gc.collect()
    before = _collections()
    cpu_started = time.process_time()
    started = time.perf_counter()
    result = SceneBuild(settings(), gc_policy=policy).run()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    after = _collections()
    stages = result.report.stages
    peaks = [s.peak.rss for s in stages if s.peak.rss is not None]
    return {
        "wall": wall,
        "cpu": cpu,
        "parse": next(s.wall_seconds for s in stages if s.name == "parse"),
        "boundaries": sum(s.boundary_seconds for s in stages),
        "peak_rss": max(peaks) if peaks else None,
        "collections": [b - a for a, b in zip(before, after, strict=True)],
    }


def measure(rounds: int) -> "dict[str, list[dict]]":
    """A warm-up build of each variant, then *rounds* interleaved rounds."""
    labels = list(VARIANTS)
    for label in labels:
        build_once(VARIANTS[label])
    runs: dict[str, list[dict]] = {label: [] for label in labels}
    for round_index in range(rounds):
        for label in balanced_order(labels, round_index):
            runs[label].append(build_once(VARIANTS[label]))
        print(f"  round {round_index + 1}/{rounds}")
    return runs


def analyse(runs: "dict[str, list[dict]]") -> dict:
    """Medians and spreads per variant; paired ratios baseline / variant (>1: faster)."""
    base = runs[BASELINE]
    out = {}
    for label, results in runs.items():
        figures = {}
        for key in KEYS:
            values = [r[key] for r in results if r[key] is not None]
            figures[key] = summarize(values) if values else None
        for key in ("wall", "parse", "cpu"):
            figures[f"speedup_{key}"] = summarize(
                [b[key] / r[key] for r, b in zip(results, base, strict=True)]
            )
        figures["collections_per_build"] = results[0]["collections"]
        out[label] = figures
    return out


def main() -> None:
    """Measure, print, write the JSON with its row."""
    args = bench_parser(__doc__.splitlines()[0], "2 rounds instead of 6").parse_args()
    rounds = args.repeats or (2 if args.quick else 6)
    where = machine()
    started = time.perf_counter()
    runs = measure(rounds)
    elapsed = time.perf_counter() - started
    stats = analyse(runs)
    variants = {
        label: {
            "seconds": figures["wall"]["median"],
            "parse_s": figures["parse"]["median"],
            "stage_boundaries_s": figures["boundaries"]["median"],
            "peak_rss_mib": figures["peak_rss"]["median"] / 2**20 if figures["peak_rss"] else None,
            "gen2_collections_count": figures["collections_per_build"][2],
        }
        for label, figures in stats.items()
    }
    ratios = []
    for label, figures in stats.items():
        if label == BASELINE:
            continue
        short = label.split(" (")[0]
        speedup = figures["speedup_wall"]
        ratios.append(
            ratio(
                f"parse+build time, Python default / {short} (IQR)",
                speedup["median"],
                (speedup["q1"], speedup["q3"]),
            )
        )
    freeze = stats["GCPolicy() (LeanRoute default: freeze)"]["speedup_parse"]
    ratios.append(
        ratio(
            "parse stage alone, Python default / GCPolicy() (IQR)",
            freeze["median"],
            (freeze["q1"], freeze["q3"]),
        )
    )
    row = make_row(
        "gc_tuning",
        "GC tuning: Krems parse + build, GCPolicy variants vs Python's default collector",
        "Wall time of one whole Krems build (SceneBuild with gc_policy=P and the default "
        "CleanupPolicy; parse + every build stage, not saved) for each GCPolicy against "
        "Python's untouched collector; a fresh factory scene before each build; paired "
        "rounds, interleaved. Ratios above 1: faster than Python's default.",
        variants,
        ratios,
        rounds=rounds,
    )
    path = write_json(
        "gc_build",
        {
            "benchmark": "gc_build",
            "quick": args.quick,
            "rounds": rounds,
            "variants": {label: policy.to_dict() for label, policy in VARIANTS.items()},
            "machine": where,
            "load_average_at_end": load_average(),
            "elapsed_seconds": elapsed,
            "stats": stats,
            "runs": runs,
            "rows": [row],
        },
    )
    for label, figures in stats.items():
        speedup = figures["speedup_wall"]
        print(
            f"{label:>40}: build {figures['wall']['median']:.3f} s, parse "
            f"{figures['parse']['median']:.3f} s, boundaries "
            f"{figures['boundaries']['median']:.3f} s; default/this {speedup['median']:.3f} "
            f"(IQR {speedup['q1']:.3f}-{speedup['q3']:.3f}); collections "
            + "/".join(map(str, figures["collections_per_build"]))
        )
    print(f"took {elapsed:.1f} s; wrote {path}")


if __name__ == "__main__":
    main()
