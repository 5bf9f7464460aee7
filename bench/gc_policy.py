"""Does the tuned GC policy pay? Parse + build under each GCPolicy, interleaved, one process.

The workload resembles LeanRoute's import: stage "parse" reads a real OSM extract with
``xml.etree.ElementTree.iterparse`` into plain dicts (nodes ``{id: (lat, lon)}``, ways
``{id: {"refs": [...], "tags": {...}}}``, relations), clearing elements as it goes; stage
"build" extrudes every closed building way into wall quads plus a roof polygon with numpy,
writes them into one mesh with ``foreach_set`` and removes the mesh again. Both stages run
inside ``Pipeline(..., policy=CleanupPolicy(), gc_policy=P)`` for P in default, tuned,
tuned + freeze and disabled, plus freeze alone (default thresholds) to tell the effect of
the thresholds from that of the freeze, and the default again as an A/A control whose
paired ratios to the default give the noise floor. Runs are interleaved, in the order of a
balanced Latin square, after one discarded warm-up round.

Run: ``.venv/bin/python bench/gc_policy.py [--quick] [--osm PATH] [--repeats N] [--scale K]``.
Writes ``bench/results/gc_policy.json`` (``gc_policy_x<K>.json`` with ``--scale K``).
"""

import gc
import math
import sys
import time
import xml.etree.ElementTree as ET
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
from report import make_row, ratio

from leanroute.memory import CleanupPolicy, GCPolicy, Pipeline

DEFAULT_OSM = OSM_DIR / "krems.osm"
EARTH_RADIUS = 6_371_000.0
DEFAULT_HEIGHT = 6.0  # metres, for buildings without height or building:levels (all of krems)
LEVEL_HEIGHT = 3.0
ID_STRIDE = 1 << 40  # id offset between copies of the file with --scale (OSM ids < 2**34)

# "default" is Python's own collector, untouched: the baseline. "default (A/A)" is the same
# again, as its own variant: its paired ratios to "default" show how much two identical
# runs differ here, i.e. the noise floor. "freeze" is LeanRoute's default GCPolicy().
CONTROL = "default (A/A)"
VARIANTS = {
    "default": GCPolicy(freeze=False),
    CONTROL: GCPolicy(freeze=False),
    "tuned": GCPolicy(mode="tuned", freeze=False),
    "tuned+freeze": GCPolicy(mode="tuned", freeze=True),
    "disabled": GCPolicy(mode="disabled", freeze=False),
    "freeze": GCPolicy(freeze=True),
}


# -- the workload -------------------------------------------------------------------------


def parse_osm(path: Path, osm: "dict | None" = None, id_offset: int = 0) -> dict:
    """Read an OSM XML file into plain dicts, clearing every element once it is read.

    With *osm* the file is added to those dicts, every id shifted by *id_offset* (used by
    ``--scale`` to stand in for a bigger extract).
    """
    if osm is None:
        osm = {"nodes": {}, "node_tags": {}, "ways": {}, "relations": {}}
    nodes, node_tags = osm["nodes"], osm["node_tags"]
    ways, relations = osm["ways"], osm["relations"]
    refs: list[int] = []
    tags: dict[str, str] = {}
    members: list[tuple[str, int, str]] = []
    events = ET.iterparse(path, events=("start", "end"))
    _, root = next(events)
    for event, elem in events:
        if event != "end":
            continue
        kind = elem.tag
        if kind == "nd":
            refs.append(int(elem.get("ref")) + id_offset)
        elif kind == "tag":
            tags[elem.get("k")] = elem.get("v")
        elif kind == "member":
            members.append((elem.get("type"), int(elem.get("ref")) + id_offset, elem.get("role")))
        elif kind == "node":
            node_id = int(elem.get("id")) + id_offset
            nodes[node_id] = (float(elem.get("lat")), float(elem.get("lon")))
            if tags:
                node_tags[node_id] = tags
                tags = {}
        elif kind == "way":
            ways[int(elem.get("id")) + id_offset] = {"refs": refs, "tags": tags}
            refs, tags = [], {}
        elif kind == "relation":
            relations[int(elem.get("id")) + id_offset] = {"members": members, "tags": tags}
            members, tags = [], {}
        else:
            continue
        elem.clear()
        root.clear()  # drop the finished element from the root too
    return osm


def parse_scaled(path: Path, scale: int) -> dict:
    """*path* parsed *scale* times into one set of dicts, with disjoint ids."""
    osm = None
    for copy in range(scale):
        osm = parse_osm(path, osm, id_offset=copy * ID_STRIDE)
    return osm


def _height(tags: dict[str, str]) -> float:
    for key, scale in (("height", 1.0), ("building:levels", LEVEL_HEIGHT)):
        text = tags.get(key)
        if text:
            try:
                return float(text.split()[0].replace(",", ".")) * scale
            except ValueError:
                pass
    return DEFAULT_HEIGHT


def building_arrays(osm: dict) -> "tuple[np.ndarray, np.ndarray, np.ndarray]":
    """Extrude closed building ways: vertices (V, 3), loop vertex indices, loop starts."""
    nodes, ways = osm["nodes"], osm["ways"]
    coords = np.array(list(nodes.values()), dtype=np.float64)
    lat0, lon0 = coords.mean(axis=0)
    scale_y = math.radians(1.0) * EARTH_RADIUS
    scale_x = scale_y * math.cos(math.radians(lat0))
    vert_chunks, loop_chunks, size_chunks = [], [], []
    offset = 0
    for way in ways.values():
        refs, tags = way["refs"], way["tags"]
        if "building" not in tags or len(refs) < 4 or refs[0] != refs[-1]:
            continue
        try:
            ring = np.array([nodes[ref] for ref in refs[:-1]], dtype=np.float64)
        except KeyError:  # a node outside the extract
            continue
        n = len(ring)
        xy = np.empty((n, 2))
        xy[:, 0] = (ring[:, 1] - lon0) * scale_x
        xy[:, 1] = (ring[:, 0] - lat0) * scale_y
        height = _height(tags)
        verts = np.empty((2 * n, 3), dtype=np.float32)
        verts[:n, :2] = xy
        verts[:n, 2] = 0.0
        verts[n:, :2] = xy
        verts[n:, 2] = height
        i = np.arange(n)
        j = (i + 1) % n
        walls = np.column_stack([i, j, j + n, i + n]).ravel() + offset
        roof = np.arange(n, 2 * n) + offset
        loop_chunks.extend((walls, roof))
        size_chunks.append(np.concatenate([np.full(n, 4), [n]]))
        vert_chunks.append(verts)
        offset += 2 * n
    vertices = np.concatenate(vert_chunks)
    loops = np.concatenate(loop_chunks).astype(np.int32)
    sizes = np.concatenate(size_chunks)
    starts = np.zeros(len(sizes), dtype=np.int32)
    np.cumsum(sizes[:-1], out=starts[1:])
    return vertices, loops, starts


def build_mesh(osm: dict) -> dict:
    """Extrude the buildings into one mesh with foreach_set, then remove the mesh."""
    vertices, loops, starts = building_arrays(osm)
    mesh = bpy.data.meshes.new("bench_buildings")
    try:
        mesh.vertices.add(len(vertices))
        mesh.vertices.foreach_set("co", vertices.ravel())
        mesh.loops.add(len(loops))
        mesh.loops.foreach_set("vertex_index", loops)
        mesh.polygons.add(len(starts))
        mesh.polygons.foreach_set("loop_start", starts)
        mesh.update(calc_edges=True)
        counts = {
            "vertices": len(mesh.vertices),
            "edges": len(mesh.edges),
            "faces": len(mesh.polygons),
        }
    finally:
        bpy.data.meshes.remove(mesh)
    return counts


# -- one measured run ---------------------------------------------------------------------


def _collections() -> list[int]:
    return [generation["collections"] for generation in gc.get_stats()]


def run_once(label: str, gc_policy: GCPolicy, path: Path, scale: int = 1) -> dict:
    """Run the whole workload in one Pipeline under *gc_policy*; return timings and peaks."""
    gc.collect()  # every run starts from the same collector state (not timed)
    pipeline = Pipeline(f"gc-{label}", policy=CleanupPolicy(), gc_policy=gc_policy)
    state: dict = {}
    before = _collections()
    cpu_started = time.process_time()
    started = time.perf_counter()
    with pipeline:
        with pipeline.stage("parse"):
            state["osm"] = parse_scaled(path, scale)
        with pipeline.stage("build"):
            state["counts"] = build_mesh(state["osm"])
            del state["osm"]  # the parsed data dies inside the build stage, as in LeanRoute
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    after = _collections()
    stages = pipeline.report.stages
    if not pipeline.report.ok:
        raise RuntimeError(f"a stage failed: {[(s.name, s.error) for s in stages]}")
    peaks = [s.peak.rss for s in stages if s.peak.rss is not None]
    start_rss = stages[0].before.rss
    return {
        "wall": wall,
        "cpu": cpu,
        "parse_body": stages[0].wall_seconds,
        "build_body": stages[1].wall_seconds,
        "boundaries": sum(s.boundary_seconds for s in stages),
        "cleanup_gc_collected": sum(s.cleanup.gc_collected for s in stages),
        "peak_rss": max(peaks) if peaks else None,
        "peak_rss_growth": (max(peaks) - start_rss) if peaks and start_rss else None,
        "peak_exact": all(s.peak.rss_exact for s in stages),
        "collections": [b - a for a, b in zip(before, after, strict=True)],
        "counts": state["counts"],
    }


# -- the benchmark ------------------------------------------------------------------------


def measure(path: Path, repeats: int, warmup: int, scale: int = 1) -> dict:
    """Interleaved runs of every variant: warm-up rounds first (discarded), then *repeats*."""
    labels = list(VARIANTS)
    runs: dict[str, list[dict]] = {label: [] for label in labels}
    for round_index in range(warmup + repeats):
        for label in balanced_order(labels, max(round_index - warmup, 0)):
            result = run_once(label, VARIANTS[label], path, scale)
            if round_index >= warmup:
                runs[label].append(result)
        done = round_index + 1
        print(f"  round {done}/{warmup + repeats}{' (warm-up)' if done <= warmup else ''}")
    return runs


def analyse(runs: dict[str, list[dict]]) -> dict:
    """Medians, spreads and paired ratios against the default policy."""
    baseline = runs["default"]
    out = {}
    for label, results in runs.items():
        figures = {
            key: summarize([r[key] for r in results])
            for key in ("wall", "cpu", "parse_body", "build_body", "boundaries")
        }
        for key in ("peak_rss", "peak_rss_growth"):
            values = [r[key] for r in results if r[key] is not None]
            figures[key] = summarize(values) if values else None
        paired = [r["wall"] / b["wall"] for r, b in zip(results, baseline, strict=True)]
        figures["ratio_vs_default"] = summarize(paired)
        figures["cpu_ratio_vs_default"] = summarize(
            [r["cpu"] / b["cpu"] for r, b in zip(results, baseline, strict=True)]
        )
        figures["ratio_of_medians"] = (
            figures["wall"]["median"] / summarize([b["wall"] for b in baseline])["median"]
        )
        figures["collections_per_run"] = results[0]["collections"]
        figures["gc_collected_at_boundaries"] = results[0]["cleanup_gc_collected"]
        out[label] = figures
    return out


def sign_test_p(wins: int, rounds: int) -> float:
    """One-sided exact sign test: chance of at least *wins* of *rounds* by a coin flip."""
    return sum(math.comb(rounds, k) for k in range(wins, rounds + 1)) / 2**rounds


def verdict(stats: dict, runs: dict[str, list[dict]], candidate: str, key: str = "wall") -> dict:
    """Whether *candidate* beats default by more than the noise, on *key* (wall or cpu).

    Two tests, both required: the candidate was faster than default in the same round
    often enough that a coin flip would rarely do it (one-sided sign test, p < 0.05), and
    its median gain (1 - median paired ratio candidate / default) is larger than the noise
    of the A/A control (the default run again): half the IQR of its paired ratios.
    """
    ratio_key = "ratio_vs_default" if key == "wall" else f"{key}_ratio_vs_default"
    base, cand = stats["default"][key], stats[candidate][key]
    ratios, control = stats[candidate][ratio_key], stats[CONTROL][ratio_key]
    pairs = list(zip(runs[candidate], runs["default"], strict=True))
    wins = sum(1 for c, b in pairs if c[key] < b[key])
    p_value = sign_test_p(wins, len(pairs))
    gain = base["median"] - cand["median"]
    return {
        "measure": key,
        "gain_seconds": gain,
        "gain_percent": 100.0 * gain / base["median"],
        "gain_of_minimums_percent": 100.0 * (base["min"] - cand["min"]) / base["min"],
        "spread_iqr_seconds": max(base["iqr"], cand["iqr"]),
        "paired_ratio_median": ratios["median"],
        "paired_ratio_iqr": [ratios["q1"], ratios["q3"]],
        "paired_ratio_range": [ratios["min"], ratios["max"]],
        "control_ratio_median": control["median"],
        "control_ratio_iqr": [control["q1"], control["q3"]],
        "rounds_faster": wins,
        "rounds": len(pairs),
        "sign_test_p": p_value,
        "control_noise": control["iqr"] / 2,
        "beats_default_beyond_noise": p_value < 0.05
        and 1.0 - ratios["median"] > control["iqr"] / 2,
    }


def print_verdict(label: str, result: dict) -> None:
    """One plain sentence per variant."""
    word = "BEATS" if result["beats_default_beyond_noise"] else "does NOT beat"
    q1, q3 = result["paired_ratio_iqr"]
    c1, c3 = result["control_ratio_iqr"]
    print(
        f"{label} {word} default beyond noise ({result['measure']}): paired ratio "
        f"{result['paired_ratio_median']:.3f} (IQR {q1:.3f}-{q3:.3f}; A/A control "
        f"{result['control_ratio_median']:.3f}, IQR {c1:.3f}-{c3:.3f}, noise "
        f"+-{result['control_noise']:.3f}); faster in "
        f"{result['rounds_faster']}/{result['rounds']} rounds (sign test p="
        f"{result['sign_test_p']:.3f}); medians {result['gain_percent']:+.1f}%, minimums "
        f"{result['gain_of_minimums_percent']:+.1f}%"
    )


def make_synthetic_row(stats: dict, verdicts: dict, repeats: int, osm: Path, scale: int) -> dict:
    """The ``gc_policy_synthetic`` row (``_x<K>`` with --scale K): a diagnostic, not gc_tuning."""
    variants = {}
    for label, figures in stats.items():
        peak = figures["peak_rss"]
        variants[label] = {
            "seconds": figures["wall"]["median"],
            "cpu_s": figures["cpu"]["median"],
            "stage_boundaries_s": figures["boundaries"]["median"],
            "peak_rss_mib": peak["median"] / 2**20 if peak else None,
        }
    ratios = []
    # LeanRoute's default (freeze) first, the A/A control (the noise floor) last
    order = sorted(verdicts, key=lambda label: (label != "freeze", label == CONTROL))
    for label in order:
        result = verdicts[label]
        # paired ratio variant / default; shown inverted so that above 1 means faster
        q1, q3 = result["paired_ratio_iqr"]
        beyond = "beyond noise" if result["beats_default_beyond_noise"] else "not beyond noise"
        ratios.append(
            ratio(
                f"time, default / {label} (IQR; {beyond}, sign test p={result['sign_test_p']:.3f})",
                1.0 / result["paired_ratio_median"],
                (1.0 / q3, 1.0 / q1),
            )
        )
    suffix = "" if scale == 1 else f"_x{scale}"
    return make_row(
        f"gc_policy_synthetic{suffix}",
        "GC policy on a synthetic look-alike of the import (diagnostic)",
        f"Wall time of iterparse of {osm.name}"
        + (f" x{scale}" if scale != 1 else "")
        + " into plain dicts + a numpy-extruded building mesh, in a two-stage Pipeline with "
        "the default CleanupPolicy, per GCPolicy; 'default (A/A)' is the baseline run again "
        "(its ratio is the noise floor). The real build is row gc_tuning.",
        variants,
        ratios,
        rounds=repeats,
    )


def main(argv: "list[str] | None" = None) -> int:
    """Run the benchmark, print a summary, write bench/results/gc_policy.json."""
    parser = bench_parser(__doc__.splitlines()[0], "fewer repeats (a smoke run)")
    parser.add_argument("--osm", type=Path, default=DEFAULT_OSM, help="OSM XML file to parse")
    parser.add_argument(
        "--scale", type=int, default=1, help="parse the file this many times per run"
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 12)
    warmup = 1
    if not args.osm.is_file():
        parser.error(f"no OSM file at {args.osm}")

    bpy.ops.wm.read_factory_settings(use_empty=True)
    print(
        f"gc_policy: {args.osm.name} ({args.osm.stat().st_size / 2**20:.1f} MiB) x{args.scale}, "
        f"{len(VARIANTS)} variants x {repeats} repeats (+{warmup} warm-up), interleaved"
    )
    where = machine()  # load average before the run
    started = time.perf_counter()
    runs = measure(args.osm, repeats, warmup, args.scale)
    elapsed = time.perf_counter() - started
    stats = analyse(runs)
    candidates = [label for label in VARIANTS if label != "default"]
    verdicts = {label: verdict(stats, runs, label) for label in candidates}
    cpu_verdicts = {label: verdict(stats, runs, label, "cpu") for label in candidates}

    print(f"\nworkload: {runs['default'][0]['counts']} (building mesh), took {elapsed:.1f} s")
    header = (
        f"{'variant':<14} {'wall median':>12} {'IQR':>9} {'min':>10} {'cpu median':>11} "
        f"{'ratio':>6} "
        f"{'paired min-max':>14} {'parse':>10} {'build':>10} {'boundaries':>11} "
        f"{'peak RSS':>10} {'peak grow':>10}  gc runs g0/g1/g2"
    )
    print(header)
    for label, figures in stats.items():
        wall, ratio = figures["wall"], figures["ratio_vs_default"]
        peak, growth = figures["peak_rss"], figures["peak_rss_growth"]
        print(
            f"{label:<14} {ms(wall['median']):>12} {ms(wall['iqr']):>9} {ms(wall['min']):>10} "
            f"{ms(figures['cpu']['median']):>11} "
            f"{figures['ratio_of_medians']:>6.3f} "
            f"{ratio['min']:>6.3f}-{ratio['max']:<7.3f} "
            f"{ms(figures['parse_body']['median']):>10} "
            f"{ms(figures['build_body']['median']):>10} "
            f"{ms(figures['boundaries']['median']):>11} "
            f"{mib(peak['median'] if peak else None):>10} "
            f"{mib(growth['median'] if growth else None):>10}  "
            + "/".join(str(c) for c in figures["collections_per_run"])
        )
    print()
    for label, result in verdicts.items():
        print_verdict(label, result)
    print("(A/A is the same policy as default: its sign test p should be well above 0.05)")
    cpu_beats = [
        label for label, result in cpu_verdicts.items() if result["beats_default_beyond_noise"]
    ]
    print(f"on process CPU time, beyond noise: {', '.join(cpu_beats) or 'none'}")

    # A scaled run is a different workload: keep it beside the standard result.
    path = write_json(
        "gc_policy" if args.scale == 1 else f"gc_policy_x{args.scale}",
        {
            "benchmark": "gc_policy",
            "description": "Parse (iterparse to dicts) + build (extruded building mesh) "
            "under each GCPolicy with the default CleanupPolicy; interleaved, one process.",
            "quick": args.quick,
            "osm_file": str(args.osm),
            "osm_bytes": args.osm.stat().st_size,
            "scale": args.scale,
            "repeats": repeats,
            "warmup_rounds": warmup,
            "variants": {label: policy.to_dict() for label, policy in VARIANTS.items()},
            "verdict_rule": "beats default beyond noise when it was faster than default in "
            "the same round significantly often (one-sided exact sign test, p < 0.05) and its "
            "median gain (1 - median paired ratio variant / default) exceeds the A/A "
            "control's noise (half the IQR of its paired ratios; A/A = default run again)",
            "machine": where,
            "load_average_at_end": load_average(),
            "elapsed_seconds": elapsed,
            "stats": stats,
            "verdicts": verdicts,
            "cpu_verdicts": cpu_verdicts,
            "runs": runs,
            "rows": [make_synthetic_row(stats, verdicts, repeats, args.osm, args.scale)],
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
