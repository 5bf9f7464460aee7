"""Scale: full builds of generated cities of 1,000, 10,000 and 100,000 buildings.

Does a ten times larger city cost ten times as much? Each size is the sample city generator's
``write_sample_city(buildings=N)`` (exactly N buildings, streets in proportion, split into
two-block ways as OpenStreetMap splits them), built whole (padding past the city's edge) along
the same 300 m route across the central block, with the default memory budget, and saved to
a .blend: every stage runs.

Every build runs in a fresh process (hidden flag ``--child``), which first builds and removes
the one-building city (a warm-up: imports, Blender's first-use allocations), then measures RSS and
Blender's allocator, runs the measured build and reports, per stage, the wall time (the stage's
body and its boundary), the peak RSS above the process's RSS before the build ("peak growth")
and Blender's allocator after the stage; and the build's total time and peak.

Per-building cost is reported two ways:

- **raw**: the whole build's time (or peak growth) divided by N;
- **net**: the same after taking away the fixed cost of a build, measured directly as the build
  of a one-building, one-block city along the same route (same stages, the same car and
  animation): ``(cost(N) - cost(1)) / (N - 1)``. A linear pipeline has a constant net cost
  per building; a super-linear stage makes it grow with N. The headline ratios compare the
  net costs at 100 k and at 1 k, and the spread over all sizes.

Times: every build of a city is followed, in the same process, by a build of the fixed-cost
city, and the net time is the median over these pairs of their difference (per stage too).
On this shared VM a build's time swings by up to 2x between minutes with what other guests
take (CPU steal, which ``time.process_time`` does not escape either); the 1 k city's net
cost, ~60 ms, is a difference of two builds, so only builds run moments apart are compared.
Builds per process: five for the small cities, three for 10 k, one for 100 k.

Memory: the peak growth of the first build in each process (medians over the processes),
net of the fixed-cost city's own first build stage by stage (see :func:`per_building`). A
later build in the same process reuses heap the earlier one freed but the allocator kept,
which hides most of a small city's growth.

Sizes run interleaved (balanced Latin square) over the rounds. The
forecast each stage was given (``route/memory_forecast.py``) is recorded beside its actual
peak, so the estimates can be checked against what the stages really took.

Run: ``.venv/bin/python bench/scale_bench.py [--quick] [--repeats N] [--sizes 1000,10000]``.
Writes ``bench/results/scale.json``.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXED = 1  # buildings in the city whose build is the fixed cost
SIZES = (1_000, 10_000, 100_000)
PADDING_M = 20_000.0  # past the edge of the largest city: everything is built
#: The route of every build, metres from the cities' common centre: across the central block,
#: about 300 m, so the car's animation (a fixed cost) is the same small one in every city.
ROUTE_XY = ((-75.0, -75.0), (75.0, 75.0))
GIB = 2**30
#: Time and peak memory per building must stay within this of each other from 1 k to 100 k.
TOLERANCE = 0.20
PEAK_LIMIT = 2 * GIB  # the 100 k build's peak RSS


# -- the child: one measured build in a fresh process -----------------------------------------


def child(
    osm: str, waypoints: list, warmup_osm: str, warmup_waypoints: list, out: str, builds: int
) -> "list[dict]":
    """Warm up, then build *osm* along *waypoints* *builds* times; each build's figures."""
    import gc

    import bpy

    from leanroute.memory.idle_clean import clean_now
    from leanroute.route.build import SceneBuild
    from leanroute.route.build_collection import remove_build
    from leanroute.route.settings import BuildSettings

    def settings(path, route, **extra):
        return BuildSettings(osm=path, waypoints=route, padding_m=PADDING_M, **extra)

    def remove(result) -> None:
        remove_build(bpy.data.collections[result.collection])
        gc.collect()
        clean_now("bench", "between builds")

    # The fixed-cost build saves its .blend too: writing a file is part of the fixed cost.
    fixed = settings(warmup_osm, warmup_waypoints, out=Path(out).with_name("fixed.blend"))
    remove(SceneBuild(fixed).run())
    measured = []
    for index in range(builds):
        figures = measured_build(settings(osm, waypoints, out=Path(out)), remove)
        figures["first_in_process"] = index == 0
        # The fixed-cost build right after, in the same process: the pair's difference is
        # this city's own cost, whatever the shared machine's speed at that moment.
        paired = measured_build(fixed, remove)
        figures["fixed_seconds"] = paired["seconds"]
        figures["fixed_stage_seconds"] = [stage["seconds"] for stage in paired["stages"]]
        measured.append(figures)
    return measured


def measured_build(settings, remove) -> dict:
    """One full build from a settled process: time, peaks and allocator, stage by stage."""
    from leanroute.memory.blender_stats import blender_allocated_bytes
    from leanroute.memory.process_memory import rss_bytes
    from leanroute.route.build import SceneBuild

    rss0, blender0 = rss_bytes(), blender_allocated_bytes()
    started = time.perf_counter()
    result = SceneBuild(settings).run()
    total = time.perf_counter() - started
    stages = []
    for stage in result.report.stages:
        stages.append(
            {
                "name": stage.name,
                "seconds": stage.wall_seconds + stage.boundary_seconds,
                "peak_growth": (stage.peak.rss or 0) - rss0,
                "own_growth": (stage.peak.rss or 0) - (stage.before.rss or 0),
                "forecast": stage.forecast,
                "blender_after": (stage.after.blender or 0) - (blender0 or 0),
            }
        )
    peak = max(stage.peak.rss or 0 for stage in result.report.stages)
    figures = {
        "seconds": total,
        "peak_rss": peak,
        "peak_growth": peak - rss0,
        "rss_before": rss0,
        "blender_before": blender0,
        "budget_hard": max((s.budget_hard or 0) for s in result.report.stages) or None,
        "stages": stages,
        "results": {key: result.results.get(key) for key in ("osm", "roads", "buildings", "route")},
    }
    remove(result)
    return figures


# -- the parent ---------------------------------------------------------------------------


def write_cities(folder: Path, sizes) -> dict:
    """The cities to build: {size: (path, waypoints)}, all driven along the same short route."""
    from leanroute.route.sample_city import lat_lon_at, write_sample_city

    route = [list(lat_lon_at(x, y)) for x, y in ROUTE_XY]
    cities = {}
    for size in (FIXED, *sizes):
        # The fixed-cost city is one block: four streets round one building.
        blocks = 1 if size == FIXED else None
        city = write_sample_city(folder / f"city_{size}.osm", buildings=size, blocks=blocks)
        cities[size] = (city.path, route)
    return cities


def run_child(cities: dict, size: int, out: Path) -> "list[dict]":
    """Builds of *size* in a fresh process, each followed by a fixed-cost build."""
    path, route = cities[size]
    warm_path, warm_route = cities[FIXED]
    # Small builds are short and noisy: several per process (removed in between).
    builds = 1 if size >= 100_000 else 3 if size >= 10_000 else 5
    out_path = str(out / f"scale_{size}.blend")
    command = [
        sys.executable,
        __file__,
        "--child",
        json.dumps([path, route, warm_path, warm_route, out_path, builds]),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"scale child {size} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
    builds = json.loads(lines[-1])
    for figures in builds:
        built = (figures["results"].get("buildings") or {}).get("built", 0)
        if built != size:
            raise SystemExit(f"the {size}-building city built {built} buildings, not {size}")
    return builds


def summarize(runs: "list[dict]") -> dict:
    """One size's figures over its builds: median times and net times, first-build memory."""
    first_builds = [run for run in runs if run["first_in_process"]]
    stages = []
    for index, stage in enumerate(runs[0]["stages"]):
        timed = {
            "seconds": statistics.median(run["stages"][index]["seconds"] for run in runs),
            "net_seconds": statistics.median(
                run["stages"][index]["seconds"] - run["fixed_stage_seconds"][index] for run in runs
            ),
        }
        sized = {
            key: statistics.median(run["stages"][index][key] for run in first_builds)
            for key in ("peak_growth", "own_growth", "blender_after")
        }
        stages.append({"name": stage["name"], **timed, **sized, "forecast": stage["forecast"]})
    return {
        "seconds": statistics.median(run["seconds"] for run in runs),
        "fixed_seconds": statistics.median(run["fixed_seconds"] for run in runs),
        "net_seconds": statistics.median(run["seconds"] - run["fixed_seconds"] for run in runs),
        **{
            key: statistics.median(run[key] for run in first_builds)
            for key in ("peak_rss", "peak_growth")
        },
        "builds": len(runs),
        "processes": len(first_builds),
        "budget_hard": runs[0]["budget_hard"],
        "stages": stages,
        "results": runs[0]["results"],
    }


def per_building(size_figures: dict, fixed: dict, size: int) -> dict:
    """Raw and net (fixed cost taken away) time and peak growth per building.

    The net peak is taken stage by stage: each stage's peak growth minus the fixed-cost
    build's peak growth in the same stage, the largest over the stages. (The whole builds'
    peaks can fall in different stages: the small city's in the save stage, where the car's
    animation is the fixed cost, the large one's in the buildings stage.)
    """
    net_peaks = [
        stage["peak_growth"] - fixed_stage["peak_growth"]
        for stage, fixed_stage in zip(size_figures["stages"], fixed["stages"], strict=True)
    ]
    return {
        "ms_raw": size_figures["seconds"] * 1000 / size,
        "ms_net": size_figures["net_seconds"] * 1000 / (size - FIXED),
        "kib_raw": size_figures["peak_growth"] / 1024 / size,
        "kib_net": max(net_peaks) / 1024 / (size - FIXED),
    }


def stage_table(by_size: dict, sizes) -> dict:
    """Per stage and size: seconds, ms per 1,000 buildings, peak growth, Blender after."""
    names = [stage["name"] for stage in by_size[sizes[0]]["stages"]]
    columns = ["stage"]
    for size in sizes:
        label = f"{size:,}"
        columns += [
            f"{label}: s",
            f"{label}: µs/building",
            f"{label}: peak MiB",
            f"{label}: Blender MiB",
        ]
    rows = []
    for index, name in enumerate(names):
        row = [name]
        for size in sizes:
            stage = by_size[size]["stages"][index]
            row += [
                f"{stage['seconds']:.3f}",
                f"{stage['net_seconds'] * 1e6 / (size - FIXED):.1f}",
                f"{stage['peak_growth'] / 2**20:.1f}",
                f"{stage['blender_after'] / 2**20:.1f}",
            ]
        rows.append(row)
    total = ["whole build"]
    for size in sizes:
        figures = by_size[size]
        net = figures["net_seconds"] * 1e6 / (size - FIXED)
        total += [
            f"{figures['seconds']:.3f}",
            f"{net:.1f}",
            f"{figures['peak_growth'] / 2**20:.1f}",
        ]
        total.append("")
    rows.append(total)
    return {
        "title": "Per stage: median wall time (body + boundary), net time per building (µs, "
        "paired with the fixed-cost build), peak RSS above the RSS before the build, Blender's "
        "allocator after the stage above the same point",
        "columns": columns,
        "rows": rows,
    }


def make_scale_row(by_size: dict, fixed: dict, sizes, rounds: int) -> dict:
    """The ``scale`` row: a variant per size, the 100 k / 1 k ratios, the stage table."""
    from report import make_row, ratio

    variants = {}
    costs = {}
    for size in sizes:
        figures = by_size[size]
        cost = costs[size] = per_building(figures, fixed, size)
        variants[f"{size:,} buildings"] = {
            "build_s": figures["seconds"],
            "fixed_cost_alongside_s": figures["fixed_seconds"],
            "peak_rss_mib": figures["peak_rss"] / 2**20,
            "peak_growth_mib": figures["peak_growth"] / 2**20,
            "time_per_building_raw_ms": cost["ms_raw"],
            "time_per_building_net_ms": cost["ms_net"],
            "peak_per_building_net_kib": cost["kib_net"],
        }
    variants[f"fixed cost ({FIXED}-building, one-block city)"] = {
        "build_s": fixed["seconds"],
        "peak_rss_mib": fixed["peak_rss"] / 2**20,
        "peak_growth_mib": fixed["peak_growth"] / 2**20,
    }
    small, large = min(sizes), max(sizes)
    time_ratio = costs[large]["ms_net"] / costs[small]["ms_net"]
    memory_ratio = costs[large]["kib_net"] / costs[small]["kib_net"]
    spread_time = [c["ms_net"] for c in costs.values()]
    spread_memory = [c["kib_net"] for c in costs.values()]
    time_flat = max(spread_time) / min(spread_time)
    memory_flat = max(spread_memory) / min(spread_memory)
    peak_large = by_size[large]["peak_rss"]
    met = time_flat <= 1 + TOLERANCE and memory_flat <= 1 + TOLERANCE and peak_large < PEAK_LIMIT
    ratios = [
        ratio(
            f"time per building (net), {large:,} vs {small:,} buildings "
            f"(largest/smallest over all sizes: {time_flat:.2f})",
            time_ratio,
        ),
        ratio(
            f"peak RSS growth per building (net), {large:,} vs {small:,} buildings "
            f"(largest/smallest over all sizes: {memory_flat:.2f})",
            memory_ratio,
        ),
        ratio(f"peak RSS of the {large:,}-building build, GiB (limit 2)", peak_large / GIB),
    ]
    row = make_row(
        "scale",
        f"Scale: full builds of {', '.join(f'{s:,}' for s in sizes)} buildings",
        "Full builds (parse to save, default budget) of generated cities, each in a fresh "
        "warmed-up process, along one 300 m route; per-building cost raw and net of the "
        f"fixed cost of a {FIXED}-building, one-block build run alongside each build; medians.",
        variants,
        ratios,
        rounds=rounds,
        target=f"time and peak growth per building (net) within {TOLERANCE:.0%} of each other "
        f"from {small:,} to {large:,} buildings; the {large:,} build under 2 GiB peak RSS",
        target_met=met,
        tables=[stage_table(by_size, sizes)],
    )
    return row


def main() -> None:
    """Write the cities, run every size in its own process over the rounds, write the row."""
    from _common import balanced_order, bench_parser, machine, write_json

    parser = bench_parser(__doc__.splitlines()[0], "one round (default: 5)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="building counts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*json.loads(args.child))), flush=True)  # a JSON list
        return
    sizes = tuple(int(size) for size in args.sizes.split(","))
    rounds = args.repeats or (1 if args.quick else 5)
    runs: dict[int, list[dict]] = {size: [] for size in (FIXED, *sizes)}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="leanroute-scale-") as temporary:
        folder = Path(temporary)
        cities = write_cities(folder, sizes)
        for round_index in range(rounds):
            for size in balanced_order([FIXED, *sizes], round_index):
                builds = run_child(cities, size, folder)
                runs[size].extend(builds)
                for figures in builds:
                    print(
                        f"round {round_index + 1}/{rounds}: {size:>7,} buildings "
                        f"{figures['seconds']:6.2f} s, peak "
                        f"{figures['peak_rss'] / 2**20:7.1f} MiB "
                        f"(+{figures['peak_growth'] / 2**20:.1f})",
                        flush=True,
                    )
    by_size = {size: summarize(items) for size, items in runs.items()}
    fixed = by_size.pop(FIXED)
    row = make_scale_row(by_size, fixed, sizes, rounds)
    path = write_json(
        "scale",
        {
            "machine": machine(),
            "seconds": time.perf_counter() - started,
            "rows": [row],
            "runs": {str(size): items for size, items in runs.items()},
        },
    )
    for item in row["ratios"]:
        print(f"{item['what']}: {item['value']:.3f}")
    print(f"target met: {row['target_met']}; wrote {path}")


if __name__ == "__main__":
    main()
