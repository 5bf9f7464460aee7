"""Geometry: the Krems buildings written in bulk vs element by element with BMesh vs per building.

The input is what LeanRoute's ``buildings`` stage writes for a real extract: the file read by
``read_osm``, projected around the centre of its bounds, every building footprint collected by
``collect_buildings`` (the whole extract: no clip box, as there is no route here), extruded by
``building_mesh`` and the holed roofs triangulated, all concatenated into one ``MeshArrays``.
That preparation runs once, untimed. Three ways to put the same geometry into Blender:

- **bulk (LeanRoute)**: ``route.blender_mesh.object_with_mesh``, LeanRoute's own path: one mesh
  filled with one ``foreach_set`` per attribute, one object;
- **BMesh per element**: one BMesh (LeanRoute's ``new_bmesh()`` scope, so it is freed),
  ``bm.verts.new`` per vertex and ``bm.faces.new`` per face from Python lists prepared
  beforehand, then ``bm.to_mesh`` into a new mesh and one object;
- **object per building**: a mesh and an object per building, each mesh filled by
  LeanRoute's ``mesh_from_arrays`` (``foreach_set``), each object linked to the collection.

Every variant must give the same vertex, face, loop and edge counts (asserted). Measured per
run: wall time of the write; the peak RSS above the RSS just before it (kernel ``VmHWM``, reset
through ``/proc/self/clear_refs`` before the run); Blender's allocator (the status bar figure,
``Scene.statistics``, 0.1 MiB resolution) right after the write, before any cleanup, and for
BMesh also just before the BMesh is freed (its own peak: the BMesh and the new mesh at once;
that reading is not timed). Then, apart: the first depsgraph evaluation
(``view_layer.update()``), its time and the allocator after it. Each run then removes its
objects and meshes, evaluates again (so the depsgraph drops its copies), collects and trims
the heap, untimed, so rounds never accumulate (checked). Variants run interleaved in the
order of a balanced Latin square, after one discarded warm-up round; medians are reported.

Run: ``.venv/bin/python bench/geometry_bench.py [--quick] [--repeats N] [--osm PATH]``.
Writes ``bench/results/geometry.json``.
"""

import gc
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np
from _common import (
    OSM_DIR,
    balanced_order,
    bench_parser,
    load_average,
    machine,
    mib,
    ms,
    summarize,
    write_json,
)

from leanroute.memory import new_bmesh, return_memory_to_os
from leanroute.memory.blender_stats import blender_allocated_bytes
from leanroute.memory.process_memory import peak_rss_bytes, reset_peak_rss, rss_bytes
from leanroute.route.blender_mesh import mesh_from_arrays, object_with_mesh
from leanroute.route.building_geometry import building_mesh, collect_buildings
from leanroute.route.mesh_arrays import MeshArrays
from leanroute.route.osm_parse import read_osm
from leanroute.route.projection import LocalProjection
from leanroute.route.roof_triangulation import holed_roof_arrays
from leanroute.route.settings import BuildSettings

DEFAULT_OSM = OSM_DIR / "krems.osm"

BULK = "bulk foreach_set (LeanRoute)"
BMESH = "BMesh per element"
PER_OBJECT = "object per building"


# -- the workload ----------------------------------------------------------------------------


@dataclass
class Workload:
    """The buildings of one extract, ready for each variant (prepared once, untimed)."""

    arrays: MeshArrays  # everything in one mesh, as the buildings stage writes it
    per_building: list[MeshArrays]  # the same, one mesh per building
    vertex_list: list  # Python lists for the element-by-element variant
    face_list: list
    counts: dict


def prepare(path: Path) -> Workload:
    """Parse, project and extrude the buildings of *path* the way the buildings stage does."""
    osm = read_osm(path)
    projection = LocalProjection(*osm.data_bounds().centre)
    x, y = projection.forward(osm.nodes.lat, osm.nodes.lon)
    found = collect_buildings(
        osm, np.column_stack([x, y]), None, default_height=BuildSettings.default_height_m
    )
    meshes = building_mesh(found.footprints)
    arrays = MeshArrays.concat([meshes.walls_and_roofs, holed_roof_arrays(meshes.holed_roofs)])
    per_building = []
    for footprint in found.footprints:
        one = building_mesh([footprint])
        per_building.append(
            MeshArrays.concat([one.walls_and_roofs, holed_roof_arrays(one.holed_roofs)])
        )
    loops = arrays.loop_vertices.tolist()
    faces = [
        loops[start : start + total]
        for start, total in zip(
            arrays.loop_starts.tolist(), arrays.loop_totals.tolist(), strict=True
        )
    ]
    counts = {
        "buildings": len(found.footprints),
        "with_holes": len(meshes.holed_roofs),
        "vertices": arrays.vertex_count,
        "faces": arrays.face_count,
        "loops": len(arrays.loop_vertices),
    }
    if (
        sum(p.vertex_count for p in per_building) != counts["vertices"]
        or sum(p.face_count for p in per_building) != counts["faces"]
    ):
        raise SystemExit("the per-building meshes do not add up to the whole")
    return Workload(arrays, per_building, arrays.vertices.tolist(), faces, counts)


# -- the variants: each returns the objects and meshes it made -------------------------------


class Probe:
    """An untimed allocator reading inside a variant (its time is taken off the run's)."""

    def __init__(self):
        self.paused = 0.0
        self.allocator: int | None = None

    def read(self) -> None:
        """Read Blender's allocator now."""
        started = time.perf_counter()
        self.allocator = blender_allocated_bytes()
        self.paused += time.perf_counter() - started


def write_bulk(work: Workload, collection, probe: Probe) -> "tuple[list, list]":
    """LeanRoute's own path: one mesh, one foreach_set per attribute, one object."""
    obj = object_with_mesh("bench buildings bulk", work.arrays, collection)
    return [obj], [obj.data]


def write_bmesh(work: Workload, collection, probe: Probe) -> "tuple[list, list]":
    """One BMesh built a vertex and a face at a time, then written to a mesh and freed."""
    mesh = bpy.data.meshes.new("bench buildings bmesh")
    with new_bmesh() as bm:
        new_vert, new_face = bm.verts.new, bm.faces.new
        verts = [new_vert(co) for co in work.vertex_list]
        for face in work.face_list:
            new_face([verts[i] for i in face])
        bm.to_mesh(mesh)
        del verts
        probe.read()  # the BMesh and the mesh at once: this variant's allocator peak
    obj = bpy.data.objects.new("bench buildings bmesh", mesh)
    collection.objects.link(obj)
    return [obj], [mesh]


def write_per_object(work: Workload, collection, probe: Probe) -> "tuple[list, list]":
    """A mesh (foreach_set) and an object per building, each linked to the collection."""
    objects, meshes = [], []
    link = collection.objects.link
    for index, arrays in enumerate(work.per_building):
        name = f"bench building {index}"
        mesh = mesh_from_arrays(name, arrays)
        obj = bpy.data.objects.new(name, mesh)
        link(obj)
        objects.append(obj)
        meshes.append(mesh)
    return objects, meshes


VARIANTS = {BULK: write_bulk, BMESH: write_bmesh, PER_OBJECT: write_per_object}


# -- one measured run ------------------------------------------------------------------------


def _settle() -> None:
    gc.collect()
    return_memory_to_os()


def run_once(label: str, work: Workload, collection) -> dict:
    """One variant: write, measure, evaluate, then remove everything it made (untimed)."""
    _settle()
    data_before = (len(bpy.data.meshes), len(bpy.data.objects))
    allocator_before = blender_allocated_bytes()
    rss_before = rss_bytes()
    peak_exact = reset_peak_rss()
    probe = Probe()
    collections_before = [g["collections"] for g in gc.get_stats()]
    started = time.perf_counter()
    objects, meshes = VARIANTS[label](work, collection, probe)
    seconds = time.perf_counter() - started - probe.paused
    collections = [g["collections"] for g in gc.get_stats()]
    peak_rss = peak_rss_bytes()
    allocator_after = blender_allocated_bytes()
    counts = {
        "vertices": sum(len(m.vertices) for m in meshes),
        "faces": sum(len(m.polygons) for m in meshes),
        "loops": sum(len(m.loops) for m in meshes),
        "edges": sum(len(m.edges) for m in meshes),
        "objects": len(objects),
        "meshes": len(meshes),
    }

    started = time.perf_counter()
    bpy.context.view_layer.update()
    evaluate_seconds = time.perf_counter() - started
    peak_rss_evaluated = peak_rss_bytes()
    allocator_evaluated = blender_allocated_bytes()

    bpy.data.batch_remove(objects)
    bpy.data.batch_remove(meshes)
    del objects, meshes
    bpy.context.view_layer.update()  # the depsgraph drops its copies of what was removed
    _settle()
    if (len(bpy.data.meshes), len(bpy.data.objects)) != data_before:
        raise SystemExit(f"{label} left data-blocks behind")
    allocator_peak = max(allocator_after, probe.allocator or 0)
    return {
        "seconds": seconds,
        "evaluate_seconds": evaluate_seconds,
        "peak_rss_growth": peak_rss - rss_before,
        "peak_rss_growth_with_evaluation": peak_rss_evaluated - rss_before,
        "allocator_peak": allocator_peak - allocator_before,
        "allocator_kept": allocator_after - allocator_before,
        "allocator_evaluated": allocator_evaluated - allocator_before,
        "allocator_left_after_cleanup": blender_allocated_bytes() - allocator_before,
        "rss_before": rss_before,
        "peak_exact": peak_exact,
        "gc_collections_during_write": [
            after - before for before, after in zip(collections_before, collections, strict=True)
        ],
        "counts": counts,
    }


def measure(work: Workload, repeats: int, warmup: int) -> dict:
    """Interleaved runs of every variant: warm-up rounds first (discarded), then *repeats*."""
    collection = bpy.data.collections.new("bench geometry")
    bpy.context.scene.collection.children.link(collection)
    labels = list(VARIANTS)
    runs: dict[str, list[dict]] = {label: [] for label in labels}
    try:
        for round_index in range(warmup + repeats):
            for label in balanced_order(labels, max(round_index - warmup, 0)):
                result = run_once(label, work, collection)
                if round_index >= warmup:
                    runs[label].append(result)
            done = round_index + 1
            print(f"  round {done}/{warmup + repeats}{' (warm-up)' if done <= warmup else ''}")
    finally:
        bpy.data.collections.remove(collection)
    return runs


# -- the benchmark ---------------------------------------------------------------------------


KEYS = (
    "seconds",
    "evaluate_seconds",
    "peak_rss_growth",
    "peak_rss_growth_with_evaluation",
    "allocator_peak",
    "allocator_kept",
    "allocator_evaluated",
    "allocator_left_after_cleanup",
)


def analyse(runs: dict[str, list[dict]], work: Workload) -> "tuple[dict, dict, list]":
    """Check the geometry matches; summaries per variant, the row's medians, the ratios."""
    expected = {key: work.counts[key] for key in ("vertices", "faces", "loops")}
    edges = {r["counts"]["edges"] for results in runs.values() for r in results}
    for label, results in runs.items():
        for result in results:
            got = {key: result["counts"][key] for key in expected}
            if got != expected or len(edges) != 1:
                raise SystemExit(f"{label} made different geometry: {result['counts']}")
    stats = {
        label: {key: summarize([r[key] for r in results]) for key in KEYS}
        for label, results in runs.items()
    }
    for label, results in runs.items():
        # The same round's bulk run ran moments apart: less exposed to a slow phase of the host.
        stats[label]["paired_time_ratio_vs_bulk"] = summarize(
            [r["seconds"] / b["seconds"] for r, b in zip(results, runs[BULK], strict=True)]
        )
    variants = {}
    for label, figures in stats.items():
        counts = runs[label][0]["counts"]
        variants[label] = {
            "seconds": figures["seconds"]["median"],
            "fastest_seconds": figures["seconds"]["min"],
            "evaluate_seconds": figures["evaluate_seconds"]["median"],
            "peak_rss_growth_mib": figures["peak_rss_growth"]["median"] / 2**20,
            "peak_rss_growth_with_evaluation_mib": figures["peak_rss_growth_with_evaluation"][
                "median"
            ]
            / 2**20,
            "allocator_peak_mib": figures["allocator_peak"]["median"] / 2**20,
            "allocator_after_write_mib": figures["allocator_kept"]["median"] / 2**20,
            "allocator_after_evaluation_mib": figures["allocator_evaluated"]["median"] / 2**20,
            "objects_count": counts["objects"],
            "meshes_count": counts["meshes"],
        }

    def ratio(what: str, key: str, label: str) -> dict:
        base = variants[BULK][key]
        return {"what": what, "value": variants[label][key] / base if base else None}

    ratios = [
        ratio("time, per-element BMesh / bulk", "seconds", BMESH),
        ratio("time, object per building / bulk", "seconds", PER_OBJECT),
        ratio("peak memory (allocator), per-element BMesh / bulk", "allocator_peak_mib", BMESH),
        ratio(
            "peak memory (allocator), object per building / bulk", "allocator_peak_mib", PER_OBJECT
        ),
        ratio("peak memory (RSS growth), per-element BMesh / bulk", "peak_rss_growth_mib", BMESH),
        ratio(
            "peak memory (RSS growth), object per building / bulk",
            "peak_rss_growth_mib",
            PER_OBJECT,
        ),
        *(
            {
                "what": f"time, {short} / bulk, median of same-round ratios",
                "value": stats[label]["paired_time_ratio_vs_bulk"]["median"],
            }
            for label, short in ((BMESH, "per-element BMesh"), (PER_OBJECT, "object per building"))
        ),
        ratio(
            "first depsgraph evaluation time, object per building / bulk",
            "evaluate_seconds",
            PER_OBJECT,
        ),
        ratio(
            "memory after evaluation (allocator), object per building / bulk",
            "allocator_after_evaluation_mib",
            PER_OBJECT,
        ),
    ]
    return stats, variants, ratios


def print_summary(stats: dict, ratios: list) -> None:
    """One line per variant, then the ratios."""
    print(
        f"{'variant':<30} {'write':>10} {'IQR':>9} {'RSS peak+':>10} {'IQR':>9} "
        f"{'alloc peak':>11} {'alloc kept':>11} {'evaluate':>10} {'alloc eval':>11} "
        f"{'left':>8}"
    )
    for label, figures in stats.items():
        seconds, growth = figures["seconds"], figures["peak_rss_growth"]
        print(
            f"{label:<30} {ms(seconds['median']):>10} {ms(seconds['iqr']):>9} "
            f"{mib(growth['median']):>10} {mib(growth['iqr']):>9} "
            f"{mib(figures['allocator_peak']['median']):>11} "
            f"{mib(figures['allocator_kept']['median']):>11} "
            f"{ms(figures['evaluate_seconds']['median']):>10} "
            f"{mib(figures['allocator_evaluated']['median']):>11} "
            f"{mib(figures['allocator_left_after_cleanup']['max']):>8}"
        )
    for item in ratios:
        value = "n/a" if item["value"] is None else f"{item['value']:.2f}"
        print(f"  {item['what']}: {value}")


def main(argv: "list[str] | None" = None) -> int:
    """Run the benchmark, print a summary, write bench/results/geometry.json."""
    parser = bench_parser(__doc__.splitlines()[0], "2 rounds (a smoke run)")
    parser.add_argument("--osm", type=Path, default=DEFAULT_OSM, help="OSM XML file to read")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    warmup = 1
    if not args.osm.is_file():
        parser.error(f"no OSM file at {args.osm}")

    bpy.ops.wm.read_factory_settings(use_empty=True)
    where = machine()
    started = time.perf_counter()
    work = prepare(args.osm)
    prepare_seconds = time.perf_counter() - started
    counts = work.counts
    print(
        f"geometry: {args.osm.name}, {counts['buildings']} buildings ({counts['vertices']} "
        f"vertices, {counts['faces']} faces); {len(VARIANTS)} variants x {repeats} rounds "
        f"(+{warmup} warm-up), interleaved"
    )
    runs = measure(work, repeats, warmup)
    elapsed = time.perf_counter() - started
    stats, variants, ratios = analyse(runs, work)
    row = {
        "benchmark": "geometry",
        "title": "Geometry: bulk foreach_set vs per-element BMesh vs object per building",
        "measures": (
            f"Writing the {counts['buildings']} buildings of {args.osm.name} ({counts['vertices']} "
            f"vertices, {counts['faces']} faces, prepared as the buildings stage does) into "
            f"Blender: wall time, peak RSS above the RSS before the write (VmHWM reset) and "
            f"Blender's allocator growth (peak, incl. a live BMesh); the first depsgraph "
            f"evaluation apart; one bpy process, variants interleaved, medians of {repeats} "
            f"rounds after 1 warm-up."
        ),
        "variants": variants,
        "ratios": ratios,
        "target": None,
        "target_met": None,
        "rounds": repeats,
    }
    print(f"\ntook {elapsed:.1f} s (preparation {prepare_seconds:.1f} s); geometry matches")
    print_summary(stats, ratios)
    path = write_json(
        "geometry",
        {
            "benchmark": "geometry",
            "description": row["title"],
            "quick": args.quick,
            "osm_file": str(args.osm),
            "workload": counts,
            "repeats": repeats,
            "warmup_rounds": warmup,
            "rows": [row],
            "machine": where,
            "load_average_at_end": load_average(),
            "elapsed_seconds": elapsed,
            "prepare_seconds": prepare_seconds,
            "stats": stats,
            "runs": runs,
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
