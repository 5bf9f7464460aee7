"""What a stage boundary costs with the default CleanupPolicy, and where the time goes.

Three measurements, each interleaved across variants (in balanced Latin-square order):

(a)/(b) N empty stages in one Pipeline, per policy: default ``CleanupPolicy()``,
    ``CleanupPolicy(measure_uss=False)``, ``CleanupPolicy.off()`` (all with the default
    ``GCPolicy()``, which freezes setup objects) and the default cleanup without the freeze,
    ``GCPolicy(freeze=False)``. Per stage: the report's
    ``boundary_seconds`` and the wall clock of the ``with`` minus the body. First in a
    fresh factory scene, then in a scene holding many data-blocks (meshes + objects linked
    to the scene, created once before and removed after).
(c) A realistic body, a ~100k-vertex grid mesh built with ``from_pydata`` and linked as
    an object: a plain block without any Pipeline against the same body in a stage.
Breakdown: each boundary piece (snapshots with/without USS, pointer snapshots, gc.collect,
malloc_trim, orphan removal, peak window...) timed on its own, and attributed inside real
boundaries by wrapping the functions the module defining ``Stage`` calls (restored after).

Run: ``.venv/bin/python bench/stage_overhead.py [--quick]``.
Writes ``bench/results/stage_overhead.json``.
"""

import contextlib
import gc
import statistics
import sys
import time
import types
from collections import defaultdict
from collections.abc import Callable, Iterator

import bpy
import numpy as np
from _common import (
    balanced_order,
    bench_parser,
    load_average,
    machine,
    ms,
    summarize,
    write_json,
)
from report import make_row, ratio

from leanroute.memory import CleanupPolicy, GCPolicy, Pipeline, Stage, heap_trim
from leanroute.memory.blender_stats import blender_allocated_bytes, datablock_counts
from leanroute.memory.datablock_owner import DataBlockOwner, created_since, id_snapshot
from leanroute.memory.heap_trim import return_memory_to_os
from leanroute.memory.peak import PeakWindow
from leanroute.memory.process_memory import rss_bytes, uss_bytes
from leanroute.memory.snapshot import take_snapshot

POLICIES: dict[str, tuple[CleanupPolicy, GCPolicy]] = {
    "default": (CleanupPolicy(), GCPolicy()),
    "no_uss": (CleanupPolicy(measure_uss=False), GCPolicy()),
    "off": (CleanupPolicy.off(), GCPolicy()),
    "default, no freeze": (CleanupPolicy(), GCPolicy(freeze=False)),
}
GRID_SIDE = 316  # 316 x 316 = 99,856 vertices, 99,225 quads
# The module whose functions a boundary calls (found through Stage: robust to renames).
stage_module = sys.modules[Stage.__module__]


# -- scenes -------------------------------------------------------------------------------


def fresh_scene() -> None:
    """Load Blender's factory startup file (cube, light, camera)."""
    bpy.ops.wm.read_factory_settings(use_empty=False)
    gc.collect()


def add_many_datablocks(count: int) -> "list[bpy.types.ID]":
    """Add *count* small meshes, each with an object linked to the scene; returns them all."""
    template = bpy.data.meshes.new("bench_template")
    template.from_pydata([(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)], [], [(0, 1, 2, 3)])
    collection = bpy.context.scene.collection
    created: list[bpy.types.ID] = [template]
    for index in range(count):
        mesh = template.copy()
        obj = bpy.data.objects.new(f"bench_obj_{index:05d}", mesh)
        obj.location = (index % 50, index // 50, 0)
        collection.objects.link(obj)
        created.extend((mesh, obj))
    return created


def remove_datablocks(created: "list[bpy.types.ID]") -> None:
    """Remove what :func:`add_many_datablocks` made."""
    bpy.data.batch_remove(created)
    gc.collect()


# -- (a)/(b): empty stages ----------------------------------------------------------------


def empty_stages(label: str, count: int) -> dict:
    """*count* empty stages in one Pipeline under policy *label*: per-stage timings."""
    policy, gc_policy = POLICIES[label]
    pipeline = Pipeline(f"empty-{label}", policy=policy, gc_policy=gc_policy)
    outside = []
    with pipeline:
        for index in range(count):
            started = time.perf_counter()
            with pipeline.stage(f"empty{index}"):
                pass
            outside.append(time.perf_counter() - started)
    stages = pipeline.report.stages
    return {
        "boundary": [s.boundary_seconds for s in stages],
        "with_minus_body": [o - s.wall_seconds for o, s in zip(outside, stages, strict=True)],
        "cleanup": [s.cleanup.seconds for s in stages],
    }


def measure_empty(count: int, repeats: int) -> dict:
    """Interleaved pipelines of empty stages for every policy; pooled and per-repeat stats."""
    labels = list(POLICIES)
    pooled: dict[str, dict[str, list[float]]] = {label: defaultdict(list) for label in labels}
    per_repeat: dict[str, list[float]] = {label: [] for label in labels}
    empty_stages("default", 2)  # warm-up: imports, first sampler thread, caches
    for repeat in range(repeats):
        for label in balanced_order(labels, repeat):
            result = empty_stages(label, count)
            for key, values in result.items():
                pooled[label][key].extend(values)
            per_repeat[label].append(statistics.median(result["boundary"]))
    out = {}
    for label in labels:
        out[label] = {key: summarize(values) for key, values in pooled[label].items()}
        out[label]["boundary_repeat_medians"] = summarize(per_repeat[label])
    return out


# -- breakdown ----------------------------------------------------------------------------


class Probe:
    """Accumulates time spent in wrapped functions, by label."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, label: "str | Callable[..., str]", function: Callable) -> Callable:
        """Return *function* timed under *label* (or under ``label(*args, **kwargs)``)."""

        def timed(*args, **kwargs):
            name = label(*args, **kwargs) if callable(label) else label
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1

        return timed


@contextlib.contextmanager
def instrumented_stage_module(probe: Probe) -> Iterator[None]:
    """Wrap the functions ``leanroute.memory.stage`` calls at a boundary; restore after."""

    class TimedPeakWindow(PeakWindow):
        def open(self):
            return probe.wrap("peak window open/close", super().open)()

        def close(self):
            return probe.wrap("peak window open/close", super().close)()

    def snapshot_label(*_args, uss: bool = True, **_kwargs) -> str:
        return f"take_snapshot(uss={uss})"

    replacements = {
        "take_snapshot": probe.wrap(snapshot_label, take_snapshot),
        "id_snapshot": probe.wrap("id_snapshot", id_snapshot),
        "created_since": probe.wrap("created_since", created_since),
        "return_memory_to_os": probe.wrap("heap trim", return_memory_to_os),
        "gc": types.SimpleNamespace(collect=probe.wrap("gc.collect", gc.collect)),
        "PeakWindow": TimedPeakWindow,
    }
    for name in ("blender_allocated_bytes", "rss_bytes"):
        if hasattr(stage_module, name):
            replacements[name] = probe.wrap("rss/blender reads", getattr(stage_module, name))
    missing = [name for name in replacements if not hasattr(stage_module, name)]
    if missing:
        print(f"  note: {stage_module.__name__} has no {missing}: not attributed")
        for name in missing:
            del replacements[name]
    saved = {name: getattr(stage_module, name) for name in replacements}
    try:
        for name, value in replacements.items():
            setattr(stage_module, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(stage_module, name, value)


def attributed_boundaries(label: str, count: int) -> dict:
    """Run *count* empty stages under policy *label* with every boundary piece timed."""
    policy, gc_policy = POLICIES[label]
    probe = Probe()
    pipeline = Pipeline(f"probe-{label}", policy=policy, gc_policy=gc_policy)
    pipeline.owner.adopt = probe.wrap("owner.adopt", pipeline.owner.adopt)
    pipeline.owner.remove_orphans = probe.wrap(
        "owner.remove_orphans", pipeline.owner.remove_orphans
    )
    with instrumented_stage_module(probe), pipeline:
        for index in range(count):
            with pipeline.stage(f"probe{index}"):
                pass
    boundary = sum(s.boundary_seconds for s in pipeline.report.stages) / count
    pieces = {name: seconds / count for name, seconds in probe.seconds.items()}
    pieces = dict(sorted(pieces.items(), key=lambda item: -item[1]))
    return {
        "boundary_mean": boundary,
        "pieces_mean": pieces,
        "unattributed_mean": boundary - sum(pieces.values()),
    }


def time_call(function: Callable, repeats: int) -> float:
    """Median seconds of *repeats* calls of *function*."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def frozen_collect() -> None:
    """gc.collect() with everything alive frozen (what GCPolicy(freeze=True) gives)."""
    gc.freeze()
    try:
        started = time.perf_counter()
        gc.collect()
        frozen_collect.seconds = time.perf_counter() - started
    finally:
        gc.unfreeze()


def isolated_pieces(repeats: int) -> dict:
    """Each boundary piece on its own, median of *repeats* calls, in the current scene."""
    snapshot = id_snapshot()
    owner = DataBlockOwner()
    pieces = {
        "take_snapshot(uss=True)": lambda: take_snapshot(uss=True),
        "take_snapshot(uss=False)": lambda: take_snapshot(uss=False),
        "uss_bytes": uss_bytes,
        "rss_bytes": rss_bytes,
        "blender_allocated_bytes": blender_allocated_bytes,
        "datablock_counts": datablock_counts,
        "id_snapshot": id_snapshot,
        "created_since": lambda: created_since(snapshot),
        "gc.collect": gc.collect,
        "heap trim (return_memory_to_os)": return_memory_to_os,
        "peak window open/close": lambda: PeakWindow().open().close(),
        "owner.remove_orphans (nothing owned)": owner.remove_orphans,
    }
    out = {name: time_call(function, repeats) for name, function in pieces.items()}
    frozen = []
    for _ in range(repeats):
        frozen_collect()
        frozen.append(frozen_collect.seconds)
    out["gc.collect with gc.freeze()"] = statistics.median(frozen)
    out["gc tracked objects"] = len(gc.get_objects())
    return out


# -- (c): realistic body ------------------------------------------------------------------


def grid_lists(side: int) -> "tuple[list, list]":
    """Vertices and quads of a *side* x *side* grid, as lists of tuples for from_pydata."""
    xs, ys = np.meshgrid(np.arange(side, dtype=np.float64), np.arange(side, dtype=np.float64))
    verts = np.column_stack([xs.ravel(), ys.ravel(), np.zeros(side * side)])
    i = np.arange(side - 1)
    corner = (i[None, :] + side * i[:, None]).ravel()
    faces = np.column_stack([corner, corner + 1, corner + side + 1, corner + side])
    return [tuple(v) for v in verts.tolist()], [tuple(f) for f in faces.tolist()]


def build_grid(verts: list, faces: list) -> "bpy.types.Object":
    """Build the realistic stage body: a mesh via from_pydata and an object in the scene."""
    mesh = bpy.data.meshes.new("bench_grid")
    mesh.from_pydata(verts, [], faces)
    mesh.update()
    obj = bpy.data.objects.new("bench_grid", mesh)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def remove_grid(obj: "bpy.types.Object") -> None:
    """Remove the object and mesh :func:`build_grid` made (not timed)."""
    mesh = obj.data
    bpy.data.objects.remove(obj)
    bpy.data.meshes.remove(mesh)
    gc.collect()


def realistic_run(label: str, verts: list, faces: list) -> dict:
    """One build: plain (no Pipeline) or inside a one-stage Pipeline under policy *label*."""
    if label == "plain":
        started = time.perf_counter()
        obj = build_grid(verts, faces)
        total = time.perf_counter() - started
        remove_grid(obj)
        return {"pipeline_total": total, "stage_total": total, "body": total, "boundary": 0.0}
    policy, gc_policy = POLICIES[label]
    pipeline = Pipeline(f"grid-{label}", policy=policy, gc_policy=gc_policy)
    holder = {}
    started = time.perf_counter()
    with pipeline:
        stage_started = time.perf_counter()
        with pipeline.stage("grid"):
            holder["obj"] = build_grid(verts, faces)
        stage_total = time.perf_counter() - stage_started
    total = time.perf_counter() - started
    report = pipeline.report.stages[0]
    if report.status != "ok":
        raise RuntimeError(f"stage failed: {report.error}")
    remove_grid(holder.pop("obj"))
    return {
        "pipeline_total": total,
        "stage_total": stage_total,
        "body": report.wall_seconds,
        "boundary": report.boundary_seconds,
    }


def measure_realistic(repeats: int) -> dict:
    """Interleaved plain vs in-stage builds of the grid; overhead percentages."""
    verts, faces = grid_lists(GRID_SIDE)
    labels = ["plain", *POLICIES]
    runs: dict[str, list[dict]] = {label: [] for label in labels}
    realistic_run("plain", verts, faces)  # warm-up
    realistic_run("default", verts, faces)
    for repeat in range(repeats):
        for label in balanced_order(labels, repeat):
            runs[label].append(realistic_run(label, verts, faces))
    plain = [r["stage_total"] for r in runs["plain"]]
    plain_median = statistics.median(plain)
    out = {"vertices": len(verts), "faces": len(faces), "variants": {}}
    for label in labels:
        results = runs[label]
        figures = {
            key: summarize([r[key] for r in results])
            for key in ("pipeline_total", "stage_total", "body", "boundary")
        }
        paired = [100.0 * (r["stage_total"] - p) / p for r, p in zip(results, plain, strict=True)]
        paired_pipeline = [
            100.0 * (r["pipeline_total"] - p) / p for r, p in zip(results, plain, strict=True)
        ]
        figures["overhead_percent_of_medians"] = (
            100.0 * (figures["stage_total"]["median"] - plain_median) / plain_median
        )
        figures["overhead_percent_paired"] = summarize(paired)
        figures["overhead_percent_paired_with_pipeline_start_stop"] = summarize(paired_pipeline)
        out["variants"][label] = figures
    out["runs"] = runs
    return out


# -- main ---------------------------------------------------------------------------------


def heap_trim_method() -> str:
    """Which calls leanroute's heap trim makes in this process."""
    method = getattr(heap_trim, "trim_method", None)
    if method is not None:
        return method()
    return "malloc_trim(0)" if heap_trim.trim_supported() else "unsupported"


def print_empty(title: str, stats: dict) -> None:
    """Print the per-stage table of one scene."""
    print(f"\n{title}")
    print(
        f"  {'policy':<15} {'boundary median':>16} {'IQR':>9} {'repeat medians':>20} "
        f"{'with-minus-body':>16} {'cleanup part':>13}"
    )
    for label, figures in stats.items():
        boundary, repeats = figures["boundary"], figures["boundary_repeat_medians"]
        print(
            f"  {label:<15} {ms(boundary['median']):>16} {ms(boundary['iqr']):>9} "
            f"{ms(repeats['min']):>9}-{ms(repeats['max']):<10} "
            f"{ms(figures['with_minus_body']['median']):>16} "
            f"{ms(figures['cleanup']['median']):>13}"
        )


def print_breakdown(title: str, attributed: dict, isolated: dict) -> None:
    """Print where the default boundary's time goes."""
    print(f"\n{title}: default policy, mean per stage (attributed inside real boundaries)")
    for name, seconds in attributed["pieces_mean"].items():
        print(f"  {name:<34} {ms(seconds):>10}")
    print(f"  {'(unattributed)':<34} {ms(attributed['unattributed_mean']):>10}")
    print(f"  {'= boundary':<34} {ms(attributed['boundary_mean']):>10}")
    print(
        "  isolated calls (median): "
        + ", ".join(
            f"{name} {ms(value)}"
            for name, value in isolated.items()
            if name != "gc tracked objects"
        )
    )
    print(f"  gc-tracked objects: {isolated['gc tracked objects']:,}")


def make_stage_row(fresh: dict, heavy: dict, realistic: dict, repeats: int, heavy_n: int) -> dict:
    """The ``stage_overhead`` row: boundary cost per policy, and the grid body's overhead."""
    variants = {}
    for label in POLICIES:
        variants[label] = {
            "empty_stage_fresh_scene_s": fresh[label]["boundary"]["median"],
            "empty_stage_heavy_scene_s": heavy[label]["boundary"]["median"],
            "grid_stage_overhead_percent": realistic["variants"][label]["overhead_percent_paired"][
                "median"
            ],
        }
    grid = realistic["variants"]["default"]["overhead_percent_paired"]
    return make_row(
        "stage_overhead",
        "Stage boundary cost per CleanupPolicy (empty stages and a 100k-vertex body)",
        "Median time of one stage boundary (the report's boundary_seconds) for empty stages, "
        f"in a fresh factory scene and in one with {heavy_n:,} extra meshes + objects; and "
        "the overhead of a stage around a 99,856-vertex from_pydata grid build against the "
        "same body as a plain block. Policies interleaved in balanced order.",
        variants,
        [
            ratio(
                "empty-stage boundary, default / off (fresh scene)",
                fresh["default"]["boundary"]["median"] / fresh["off"]["boundary"]["median"],
            ),
            ratio(
                "empty-stage boundary, default / off (heavy scene)",
                heavy["default"]["boundary"]["median"] / heavy["off"]["boundary"]["median"],
            ),
            ratio(
                "grid build in a default stage vs plain, percent overhead (IQR)",
                grid["median"],
                (grid["q1"], grid["q3"]),
            ),
        ],
        rounds=repeats,
    )


def main(argv: "list[str] | None" = None) -> int:
    """Run the benchmark, print a summary, write bench/results/stage_overhead.json."""
    parser = bench_parser(__doc__.splitlines()[0], "fewer stages and repeats")
    parser.add_argument("--stages", type=int, default=None, help="stages per pipeline")
    parser.add_argument(
        "--datablocks", type=int, default=2000, help="meshes + objects in the heavy scene"
    )
    args = parser.parse_args(argv)
    count = args.stages or (5 if args.quick else 8)
    repeats = args.repeats or (3 if args.quick else 8)
    pieces_repeats = 5 if args.quick else 15
    where = machine()  # load average before the run
    started = time.perf_counter()
    print(
        f"stage_overhead: {count} stages x {repeats} interleaved repeats per policy; "
        f"policies {', '.join(POLICIES)}"
    )

    fresh_scene()
    fresh_counts = datablock_counts()
    fresh = measure_empty(count, repeats)
    fresh_attributed = attributed_boundaries("default", count)
    fresh_isolated = isolated_pieces(pieces_repeats)

    created = add_many_datablocks(args.datablocks)
    try:
        heavy_counts = datablock_counts()
        heavy = measure_empty(count, repeats)
        heavy_attributed = attributed_boundaries("default", count)
        heavy_isolated = isolated_pieces(pieces_repeats)
    finally:
        remove_datablocks(created)

    fresh_scene()
    realistic = measure_realistic(3 if args.quick else 10)
    elapsed = time.perf_counter() - started

    print_empty(f"(a)/(b) empty stages, fresh factory scene {fresh_counts}", fresh)
    print_breakdown("fresh scene", fresh_attributed, fresh_isolated)
    print_empty(
        f"(a)/(b) empty stages, heavy scene ({heavy_counts.get('meshes')} meshes, "
        f"{heavy_counts.get('objects')} objects)",
        heavy,
    )
    print_breakdown("heavy scene", heavy_attributed, heavy_isolated)

    print(
        f"\n(c) realistic body: {realistic['vertices']:,}-vertex grid via from_pydata + "
        "linked object (stage total vs plain block)"
    )
    print(
        f"  {'variant':<15} {'stage total':>12} {'body':>10} {'boundary':>10} "
        f"{'overhead':>9} {'paired IQR':>16} {'incl. pipeline start/stop':>26}"
    )
    for label, figures in realistic["variants"].items():
        paired = figures["overhead_percent_paired"]
        with_pipeline = figures["overhead_percent_paired_with_pipeline_start_stop"]
        paired_iqr = f"{paired['q1']:.1f}%-{paired['q3']:.1f}%"
        print(
            f"  {label:<15} {ms(figures['stage_total']['median']):>12} "
            f"{ms(figures['body']['median']):>10} {ms(figures['boundary']['median']):>10} "
            f"{figures['overhead_percent_of_medians']:>8.1f}% {paired_iqr:>16} "
            f"{with_pipeline['median']:>25.1f}%"
        )
    print(f"\nheap trim here: {heap_trim_method()}; took {elapsed:.1f} s")

    path = write_json(
        "stage_overhead",
        {
            "benchmark": "stage_overhead",
            "quick": args.quick,
            "stages_per_pipeline": count,
            "repeats": repeats,
            "policies": {
                label: {"cleanup": policy.to_dict(), "gc": gc_policy.to_dict()}
                for label, (policy, gc_policy) in POLICIES.items()
            },
            "machine": where,
            "load_average_at_end": load_average(),
            "heap_trim_method": heap_trim_method(),
            "boundary_module": stage_module.__name__,
            "elapsed_seconds": elapsed,
            "empty_stages": {
                "fresh": {"datablocks": fresh_counts, "policies": fresh},
                "heavy": {"datablocks": heavy_counts, "policies": heavy},
            },
            "breakdown": {
                "fresh": {"attributed": fresh_attributed, "isolated": fresh_isolated},
                "heavy": {"attributed": heavy_attributed, "isolated": heavy_isolated},
            },
            "realistic_body": realistic,
            "rows": [make_stage_row(fresh, heavy, realistic, repeats, 2 * args.datablocks)],
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
