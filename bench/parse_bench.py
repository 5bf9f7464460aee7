"""Parse: LeanRoute's streaming reader vs a full ElementTree DOM parse of the same file.

Two ways to read one OSM extract into the same plain data (an ``OsmData``: node ids and
positions in numpy arrays, ways with their refs and tags, relations with their members):

- **streaming (LeanRoute)**: ``leanroute.route.osm_parse.read_osm(path, keep_all=True)``, the
  real reader keeping everything, as the DOM walk does (a build reads less: only what it
  needs): expat fed in 64 KiB chunks, every element handled as it arrives, no tree; it also checks
  every attribute it reads;
- **ElementTree DOM**: ``xml.etree.ElementTree.parse(path)`` builds the whole tree, which is
  then walked into the same structures (no checks). The tree lives until the walk is done.

Peak memory is only clean in a fresh process, so every measurement is one run of this script
in its own subprocess (hidden flag ``--child VARIANT``). The child never imports bpy: both
readers are plain Python and numpy, so its baseline RSS stays small (~39 MiB with numpy and
psutil). It imports what both variants need, resets the kernel's RSS high-water mark
(``VmHWM``, via ``/proc/self/clear_refs``), times the parse with ``perf_counter`` and reports
the peak RSS above its RSS just before the parse ("peak RSS growth", the headline figure),
the RSS still held afterwards with the result alive ("retained": the result plus heap the
parse used and kept) and a digest of the data read, which must match between the variants.
The parent runs the variants interleaved (balanced Latin square) over the rounds, after one
discarded warm-up round (each variant once, on the file itself), and takes medians.
``tracemalloc`` slows a parse down 3-4 times, so its peak is measured in one extra traced
child per variant, on the file itself only (the scaled file would take most of the time
budget), never in the timed runs.

To show how peak memory scales with the file, the same is measured on a file made of K copies
of the extract (ids shifted so no two collide; one ``<bounds>``), written to a temporary
directory and removed afterwards.

Run: ``.venv/bin/python bench/parse_bench.py [--quick] [--repeats N] [--osm PATH] [--scale K]``.
Writes ``bench/results/parse.json``.
"""

import argparse
import gc
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from array import array
from pathlib import Path

# The real extracts beside the checkout (not _common.OSM_DIR: the child must not import bpy).
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"
DEFAULT_OSM = DATA_DIR / "krems.osm"
DEFAULT_SCALE = 4  # the scaled size measured besides the file itself
ID_STRIDE = 1 << 40  # id offset between copies of the file (OSM ids are below 2**34)

STREAMING = "streaming (LeanRoute)"
DOM = "ElementTree DOM"
VARIANTS = {"streaming": STREAMING, "dom": DOM}  # child flag -> label


# -- the two readers (run in the child) ------------------------------------------------------


def parse_streaming(path: Path):
    """LeanRoute's own reader."""
    from leanroute.route.osm_parse import read_osm

    return read_osm(path, keep_all=True)


def parse_dom(path: Path):
    """``ET.parse`` the whole file, then walk the tree into the OsmData read_osm returns."""
    import numpy as np

    from leanroute.route.osm_model import Bounds, Member, NodeTable, OsmData, Relation, Way

    root = ET.parse(path).getroot()
    node_ids, node_lat, node_lon = array("q"), array("d"), array("d")
    ways: dict[int, Way] = {}
    relations: dict[int, Relation] = {}
    bounds = None
    tagged_nodes = 0
    for elem in root:
        kind = elem.tag
        if elem.get("visible") == "false" or elem.get("action") == "delete":
            continue
        if kind == "node":
            node_ids.append(int(elem.get("id")))
            node_lat.append(float(elem.get("lat")))
            node_lon.append(float(elem.get("lon")))
            tagged_nodes += elem.find("tag") is not None
        elif kind == "way":
            way_id = int(elem.get("id"))
            refs = tuple(int(nd.get("ref")) for nd in elem.iterfind("nd"))
            tags = {sys.intern(tag.get("k")): tag.get("v") for tag in elem.iterfind("tag")}
            ways[way_id] = Way(way_id, refs, tags)
        elif kind == "relation":
            relation_id = int(elem.get("id"))
            members = tuple(
                Member(m.get("type"), int(m.get("ref")), m.get("role", ""))
                for m in elem.iterfind("member")
            )
            tags = {sys.intern(tag.get("k")): tag.get("v") for tag in elem.iterfind("tag")}
            relations[relation_id] = Relation(relation_id, members, tags)
        elif kind == "bounds" and bounds is None:
            bounds = Bounds(*(float(elem.get(k)) for k in ("minlat", "minlon", "maxlat", "maxlon")))
    ids = np.frombuffer(node_ids, np.int64)
    lat = np.frombuffer(node_lat, np.float64)
    lon = np.frombuffer(node_lon, np.float64)
    if len(ids) > 1 and not np.all(ids[1:] > ids[:-1]):  # as read_osm: sorted, last one wins
        order = np.argsort(ids, kind="stable")
        last = np.append(ids[order][1:] != ids[order][:-1], True)
        order = order[last]
        ids, lat, lon = ids[order], lat[order], lon[order]
    return OsmData(
        path=str(path),
        nodes=NodeTable(ids=ids, lat=lat, lon=lon),
        ways=ways,
        relations=relations,
        bounds=bounds,
        generator=root.get("generator", ""),
        tagged_nodes=tagged_nodes,
    )


PARSERS = {"streaming": parse_streaming, "dom": parse_dom}


def digest(osm) -> dict:
    """Counts, sums and a hash of everything read: equal for two equivalent readings."""
    nodes = osm.nodes
    sha = hashlib.sha256()
    for array_ in (nodes.ids, nodes.lat, nodes.lon):
        sha.update(array_.tobytes())
    for way in osm.ways.values():
        sha.update(repr((way.id, way.refs, sorted(way.tags.items()))).encode())
    for relation in osm.relations.values():
        members = [(m.type, m.ref, m.role) for m in relation.members]
        sha.update(repr((relation.id, members, sorted(relation.tags.items()))).encode())
    bounds = osm.bounds
    sha.update(repr(None if bounds is None else vars(bounds)).encode())
    sha.update(repr((osm.generator, osm.tagged_nodes)).encode())
    return {
        "nodes": len(nodes),
        "tagged_nodes": osm.tagged_nodes,
        "ways": len(osm.ways),
        "way_refs": sum(len(w.refs) for w in osm.ways.values()),
        "relations": len(osm.relations),
        "members": sum(len(r.members) for r in osm.relations.values()),
        "sha256": sha.hexdigest(),
    }


def child(variant: str, path: Path, traced: bool) -> None:
    """Run one parse in this (fresh) process and print its figures as one JSON line."""
    import tracemalloc

    import numpy  # noqa: F401 - both readers need it: imported before the baseline

    from leanroute.memory.process_memory import peak_rss_bytes, reset_peak_rss, rss_bytes
    from leanroute.route import osm_model, osm_parse  # noqa: F401 - likewise

    parse = PARSERS[variant]
    gc.collect()
    if traced:
        tracemalloc.start()
    rss_before = rss_bytes()
    hwm_reset = reset_peak_rss()  # VmHWM := current RSS, so the peak is this parse's own
    cpu_started = time.process_time()
    started = time.perf_counter()
    osm = parse(path)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak = peak_rss_bytes()
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else None
    if traced:
        tracemalloc.stop()
    # With the result still alive: the result plus whatever the parse left in the heap.
    rss_after = rss_bytes()
    print(
        json.dumps(
            {
                "variant": variant,
                "traced": traced,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rss_before": rss_before,
                "peak_rss": peak,
                "peak_rss_growth": peak - rss_before,
                "retained_rss": rss_after - rss_before,
                "traced_peak": traced_peak,
                "peak_exact": hwm_reset,
                "bpy_imported": "bpy" in sys.modules,
                "digest": digest(osm),
            }
        )
    )


# -- the parent --------------------------------------------------------------------------------


_ID_OR_REF = re.compile(rb"(\s(?:id|ref)=)(['\"])(-?\d+)\2")


def write_scaled(path: Path, copies: int, folder: Path) -> Path:
    """A file holding *copies* copies of *path*'s nodes, ways and relations, ids shifted."""
    data = path.read_bytes()
    first = min(
        i for i in (data.find(b"<node"), data.find(b"<way"), data.find(b"<relation")) if i >= 0
    )
    first = data.rfind(b"\n", 0, first) + 1
    last = data.rfind(b"</osm>")
    head, body, tail = data[:first], data[first:last], data[last:]
    target = folder / f"{path.stem}_x{copies}.osm"
    with open(target, "wb") as handle:
        handle.write(head)
        for copy in range(copies):
            offset = copy * ID_STRIDE

            def shift(match: re.Match, offset: int = offset) -> bytes:
                value = int(match.group(3))
                value += offset if value >= 0 else -offset
                return match.group(1) + match.group(2) + str(value).encode() + match.group(2)

            handle.write(_ID_OR_REF.sub(shift, body) if offset else body)
        handle.write(tail)
    return target


def run_child(variant: str, path: Path, traced: bool = False) -> dict:
    """One measurement in a fresh interpreter."""
    command = [sys.executable, __file__, "--child", variant, "--osm", str(path)]
    done = subprocess.run(
        [*command, *(["--traced"] if traced else [])],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"child {variant} failed ({done.returncode}):\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["bpy_imported"]:
        raise SystemExit("the parse child imported bpy: its baseline would not be small")
    return result


def measure(files: dict[int, Path], repeats: int, warmup: int) -> dict:
    """Interleaved child runs of every (size, variant); warm-up rounds are discarded."""
    from _common import balanced_order

    items = [(scale, variant) for scale in files for variant in VARIANTS]
    runs: dict[tuple[int, str], list[dict]] = {item: [] for item in items}
    for round_index in range(warmup + repeats):
        order = balanced_order(items, max(round_index - warmup, 0))
        if round_index < warmup:  # warms the page cache and the imports: the file itself will do
            order = [item for item in order if item[0] == 1]
        for scale, variant in order:
            result = run_child(variant, files[scale])
            if round_index >= warmup:
                runs[(scale, variant)].append(result)
        done = round_index + 1
        print(f"  round {done}/{warmup + repeats}{' (warm-up)' if done <= warmup else ''}")
    return runs


def label_of(scale: int, variant: str, name: str) -> str:
    """A variant's name in the row: the plain label for the file itself, else with the size."""
    label = VARIANTS[variant]
    return label if scale == 1 else f"{label}, {name} x{scale}"


def check_digests(runs: dict, traced: dict) -> None:
    """Every run of both readers on one file must have read exactly the same data."""
    for k in sorted({scale for scale, _ in runs}):
        digests = {
            json.dumps(result["digest"], sort_keys=True)
            for (scale, _), results in [*runs.items(), *((i, [r]) for i, r in traced.items())]
            if scale == k
            for result in results
        }
        if len(digests) != 1:
            raise SystemExit(f"the two readers disagree on x{k}: {sorted(digests)}")


def analyse(runs: dict, traced: dict, name: str) -> "tuple[dict, dict, list]":
    """Per (size, variant): summaries of every figure, the row's medians, the ratios."""
    from _common import summarize

    stats: dict = {}
    variants: dict = {}
    for (k, variant), results in runs.items():
        figures = {
            key: summarize([r[key] for r in results])
            for key in (
                "seconds",
                "cpu_seconds",
                "peak_rss_growth",
                "peak_rss",
                "rss_before",
                "retained_rss",
            )
        }
        one_traced = traced.get((k, variant), {})
        figures["traced_peak"] = one_traced.get("traced_peak")
        figures["traced_seconds"] = one_traced.get("seconds")
        label = label_of(k, variant, name)
        stats[label] = figures
        variants[label] = {
            "seconds": figures["seconds"]["median"],
            "fastest_seconds": figures["seconds"]["min"],
            "cpu_seconds": figures["cpu_seconds"]["median"],
            "peak_rss_growth_mib": figures["peak_rss_growth"]["median"] / 2**20,
            "peak_rss_mib": figures["peak_rss"]["median"] / 2**20,
            "baseline_rss_mib": figures["rss_before"]["median"] / 2**20,
            "retained_rss_mib": figures["retained_rss"]["median"] / 2**20,
        }
        if figures["traced_peak"] is not None:
            variants[label]["tracemalloc_peak_mib"] = figures["traced_peak"] / 2**20
    scales = sorted({k for k, _ in runs})
    for k in scales:
        # Same round, moments apart: less exposed to a slow phase of the host than medians.
        pairs = zip(runs[(k, "dom")], runs[(k, "streaming")], strict=True)
        stats[label_of(k, "dom", name)]["paired_time_ratio_vs_streaming"] = summarize(
            [dom["seconds"] / stream["seconds"] for dom, stream in pairs]
        )
    ratios = []
    for k in scales:
        stream, dom = variants[label_of(k, "streaming", name)], variants[label_of(k, "dom", name)]
        suffix = "" if k == 1 else f", {name} x{k}"
        ratios += [
            {"what": f"time, DOM / streaming{suffix}", "value": dom["seconds"] / stream["seconds"]},
            {
                "what": f"peak memory, DOM / streaming{suffix}",
                "value": dom["peak_rss_growth_mib"] / stream["peak_rss_growth_mib"],
            },
            {
                "what": f"time, DOM / streaming{suffix}, median of same-round ratios",
                "value": stats[label_of(k, "dom", name)]["paired_time_ratio_vs_streaming"][
                    "median"
                ],
            },
        ]
    if len(scales) > 1:
        big_scale = scales[-1]
        for variant, label in VARIANTS.items():
            small = variants[label_of(1, variant, name)]
            big = variants[label_of(big_scale, variant, name)]
            ratios.append(
                {
                    "what": f"peak memory x{big_scale} / x1, {label}",
                    "value": big["peak_rss_growth_mib"] / small["peak_rss_growth_mib"],
                }
            )
    return stats, variants, ratios


def print_summary(stats: dict, ratios: list) -> None:
    """One line per variant and size, then the ratios."""
    from _common import mib, ms

    print(
        f"{'variant':<36} {'time':>10} {'IQR':>9} {'peak RSS growth':>16} {'IQR':>9} "
        f"{'kept RSS':>11} {'tracemalloc':>12}"
    )
    for label, figures in stats.items():
        seconds, growth = figures["seconds"], figures["peak_rss_growth"]
        print(
            f"{label:<36} {ms(seconds['median']):>10} {ms(seconds['iqr']):>9} "
            f"{mib(growth['median']):>16} {mib(growth['iqr']):>9} "
            f"{mib(figures['retained_rss']['median']):>11} {mib(figures['traced_peak']):>12}"
        )
    for ratio in ratios:
        print(f"  {ratio['what']}: {ratio['value']:.2f}")


def child_main(argv: "list[str]") -> int:
    """The hidden child mode: one parse, figures as JSON on stdout."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=sorted(PARSERS), required=True)
    parser.add_argument("--osm", type=Path, required=True)
    parser.add_argument("--traced", action="store_true")
    args = parser.parse_args(argv)
    child(args.child, args.osm, args.traced)
    return 0


def main(argv: "list[str] | None" = None) -> int:
    """Run the benchmark (or, with --child, one measurement); write bench/results/parse.json."""
    argv = sys.argv[1:] if argv is None else argv
    if "--child" in argv:
        return child_main(argv)  # before importing _common, which imports bpy

    from _common import bench_parser, load_average, machine, write_json

    parser = bench_parser(__doc__.splitlines()[0], "3 rounds, the file itself only (a smoke run)")
    parser.add_argument("--osm", type=Path, default=DEFAULT_OSM, help="OSM XML file to parse")
    parser.add_argument(
        "--scale",
        type=int,
        default=None,
        help=f"also parse a file of K shifted copies (default {DEFAULT_SCALE}; 1: the file only)",
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    scale = args.scale or (1 if args.quick else DEFAULT_SCALE)
    warmup = 1
    if not args.osm.is_file():
        parser.error(f"no OSM file at {args.osm}")
    if scale < 1:
        parser.error("--scale must be at least 1")

    where = machine()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="leanroute-parse-bench-") as folder:
        files = {1: args.osm}
        if scale > 1:
            files[scale] = write_scaled(args.osm, scale, Path(folder))
        sizes = {k: p.stat().st_size for k, p in files.items()}
        print(
            "parse: "
            + ", ".join(f"{args.osm.name} x{k} ({sizes[k] / 2**20:.1f} MiB)" for k in files)
            + f"; 2 variants x {repeats} rounds (+{warmup} warm-up), one fresh process each"
        )
        runs = measure(files, repeats, warmup)
        traced = {(1, variant): run_child(variant, files[1], traced=True) for variant in VARIANTS}
    elapsed = time.perf_counter() - started
    check_digests(runs, traced)
    stats, variants, ratios = analyse(runs, traced, args.osm.stem)

    sizes_text = " and ".join(f"x{k} ({sizes[k] / 2**20:.1f} MiB)" for k in files)
    row = {
        "benchmark": "parse",
        "title": "Parse: streaming reader vs ElementTree DOM",
        "measures": (
            f"Wall time of the parse and peak RSS above the RSS just before it (kernel VmHWM "
            f"reset per run) when {args.osm.name} {sizes_text} is read into the same OsmData by "
            f"LeanRoute's read_osm and by ET.parse plus a walk of the tree; each run in its own "
            f"fresh Python process without bpy (baseline RSS ~"
            f"{variants[STREAMING]['baseline_rss_mib']:.0f} MiB), variants interleaved, "
            f"medians of {repeats} rounds after 1 warm-up; tracemalloc peak (file itself) from "
            f"one extra traced run each. read_osm also checks every attribute; the DOM walk "
            f"does not."
        ),
        "variants": variants,
        "ratios": ratios,
        "target": None,
        "target_met": None,
        "rounds": repeats,
    }
    print(f"\ntook {elapsed:.1f} s; both readers gave the same data (digest checked)")
    print_summary(stats, ratios)
    path = write_json(
        "parse",
        {
            "benchmark": "parse",
            "description": row["title"],
            "quick": args.quick,
            "osm_file": str(args.osm),
            "scales": {str(k): {"bytes": sizes[k]} for k in files},
            "repeats": repeats,
            "warmup_rounds": warmup,
            "rows": [row],
            "machine": where,
            "load_average_at_end": load_average(),
            "elapsed_seconds": elapsed,
            "digest": {str(k): runs[(k, "streaming")][0]["digest"] for k in files},
            "stats": stats,
            "traced_runs": {label_of(k, v, args.osm.stem): r for (k, v), r in traced.items()},
            "runs": {label_of(k, v, args.osm.stem): r for (k, v), r in runs.items()},
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
