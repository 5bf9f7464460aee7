"""Scale: full builds of generated cities of 1,000, 10,000 and 100,000 buildings.

Does a ten times larger city cost ten times as much? Each size is the sample city generator's
``write_sample_city(buildings=N)`` (exactly N buildings, streets in proportion, split into
two-block ways as OpenStreetMap splits them), built whole (padding past the city's edge) along
the same 300 m route across the central block, with the default memory budget, and saved to
a .blend: every stage runs.

Two kinds of fresh processes (hidden flag ``--child``), each first building and removing the
fixed-cost city (a warm-up: imports, Blender's first-use allocations):

- **memory**: one measured build of one size, the first in its process (a later build would
  reuse heap the earlier one freed but the allocator kept, hiding most of a small city's
  growth): per stage, the peak RSS above the RSS before the build ("peak growth") and
  Blender's allocator after the stage; medians over the processes of each size;
- **time**: every size in one process, each timed over a window of builds of the same
  length (``WINDOW_S``, about one 100 k build), between two windows of fixed-cost builds;
  the figures are means per build over a window, medians over the processes. This shared VM
  switches between full and half speed for seconds at a time (what other guests run: a plain
  Python loop takes 19.5 or 39 ms, nothing between; a 1 k build 0.17 or 0.30 s). A single
  short build sees one speed, a long one a mix of both, so comparing single builds (even
  their medians, minimums, CPU times or ratios to a neighbouring build) made the small
  cities look up to 35 % dearer per building than the large one. Windows of equal length
  see the same mix whatever the size.

Per-building cost, **raw**: the whole build's time divided by N; **net**: after taking away the
fixed cost of a build, measured directly as the build of a one-building, one-block city along
the same route (same stages, the same car, animation and save): ``(cost(N) - cost(1)) / (N -
1)``; for the peak, stage by stage (see :func:`per_building`). A linear pipeline has a
constant net cost per building; a super-linear stage makes it grow with N.

Sizes run in balanced (Latin square) orders over the rounds. The
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
#: Seconds of builds in one timed window (about one 100 k build here): every size is timed
#: over windows of the same length, so each sees the same mix of the machine's speeds.
WINDOW_S = 8.0


# -- the children: measured builds in fresh processes -----------------------------------------


def _builder(fixed_osm: str, fixed_route: list, out: str):
    """(settings maker, remove, the fixed-cost settings) after a warm-up build of the fixed city.

    The warm-up pays the imports and Blender's first-use allocations before anything is
    measured. The fixed-cost build saves its .blend too: writing a file is a fixed cost.
    """
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

    fixed = settings(fixed_osm, fixed_route, out=Path(out) / "fixed.blend")
    remove(SceneBuild(fixed).run())
    return settings, remove, fixed


def memory_child(osm: str, route: list, fixed_osm: str, fixed_route: list, out: str) -> dict:
    """The first build of *osm* in a warmed-up process: memory figures (and its time)."""
    settings, remove, _ = _builder(fixed_osm, fixed_route, out)
    return measured_build(settings(osm, route, out=Path(out) / "city.blend"), remove)


def time_child(cities: dict, order: list, window_s: float, out: str) -> dict:
    """Every size in *order*, each timed window between two windows of fixed-cost builds.

    A window builds one city over and over until *window_s* seconds have passed (at least
    once); its figures are the means per build. Neighbouring sizes share the fixed-cost
    window between them.
    """
    fixed_osm, fixed_route = cities[str(FIXED)]
    settings, remove, fixed = _builder(fixed_osm, fixed_route, out)
    timed: dict[str, dict] = {}
    before = timed_window(fixed, remove, window_s)
    for size in order:
        path, route = cities[str(size)]
        city = timed_window(settings(path, route, out=Path(out) / "city.blend"), remove, window_s)
        after = timed_window(fixed, remove, window_s)
        timed[str(size)] = {
            **city,
            "fixed_seconds": (before["seconds"] + after["seconds"]) / 2,
            "fixed_stage_seconds": [
                (one + two) / 2
                for one, two in zip(before["stage_seconds"], after["stage_seconds"], strict=True)
            ],
            "fixed_builds": before["builds"] + after["builds"],
        }
        before = after
    return timed


def timed_window(settings, remove, window_s: float) -> dict:
    """Builds of *settings* for *window_s* seconds (at least one): means per build."""
    from leanroute.route.build import SceneBuild

    totals, stages = [], []
    started = time.perf_counter()
    while not totals or time.perf_counter() - started < window_s:
        began = time.perf_counter()
        result = SceneBuild(settings).run()
        totals.append(time.perf_counter() - began)
        stages.append([s.wall_seconds + s.boundary_seconds for s in result.report.stages])
        remove(result)
    return {
        "seconds": statistics.mean(totals),
        "stage_seconds": [statistics.mean(column) for column in zip(*stages, strict=True)],
        "builds": len(totals),
    }


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
    """The cities to build: {"size": (path, waypoints)}, all driven along the same short route."""
    from leanroute.route.sample_city import lat_lon_at, write_sample_city

    route = [list(lat_lon_at(x, y)) for x, y in ROUTE_XY]
    cities = {}
    for size in (FIXED, *sizes):
        # The fixed-cost city is one block: four streets round one building.
        blocks = 1 if size == FIXED else None
        city = write_sample_city(folder / f"city_{size}.osm", buildings=size, blocks=blocks)
        cities[str(size)] = (city.path, route)
    return cities


def run_child(kind: str, arguments: list):
    """Run a ``--child`` of *kind* ("memory" or "time") in a fresh process; its JSON answer."""
    command = [sys.executable, __file__, "--child", json.dumps([kind, *arguments])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"scale child {kind} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def check_built(figures: dict, size: int) -> None:
    """Stop if a build did not make every building of its city."""
    built = (figures["results"].get("buildings") or {}).get("built", 0)
    if built != size:
        raise SystemExit(f"the {size}-building city built {built} buildings, not {size}")


def memory_summary(runs: "list[dict]") -> dict:
    """One size's memory figures: medians over the first builds of its processes."""
    stages = []
    for index, stage in enumerate(runs[0]["stages"]):
        stages.append(
            {
                "name": stage["name"],
                "forecast": stage["forecast"],
                **{
                    key: statistics.median(run["stages"][index][key] for run in runs)
                    for key in ("peak_growth", "own_growth", "blender_after")
                },
            }
        )
    return {
        **{key: statistics.median(run[key] for run in runs) for key in ("peak_rss", "peak_growth")},
        "processes": len(runs),
        "stages": stages,
        "results": runs[0]["results"],
    }


def time_summary(processes: "list[dict]", size: int) -> dict:
    """One size's times: medians over the time processes of their window means.

    A build's net time is its window's mean minus the mean of the fixed-cost windows either
    side, in seconds.
    """
    windows = [timed[str(size)] for timed in processes]
    count = len(windows[0]["stage_seconds"])
    return {
        "builds": sum(w["builds"] for w in windows),
        "seconds": statistics.median(w["seconds"] for w in windows),
        "fixed_seconds": statistics.median(w["fixed_seconds"] for w in windows),
        "net_seconds": statistics.median(w["seconds"] - w["fixed_seconds"] for w in windows),
        "stage_seconds": [
            statistics.median(w["stage_seconds"][i] for w in windows) for i in range(count)
        ],
        "stage_net_seconds": [
            statistics.median(w["stage_seconds"][i] - w["fixed_stage_seconds"][i] for w in windows)
            for i in range(count)
        ],
    }


def per_building(memory: dict, timing: dict, fixed_memory: dict, size: int) -> dict:
    """Raw and net (fixed cost taken away) time and peak growth per building.

    The net peak is taken stage by stage: each stage's peak growth minus the fixed-cost
    build's peak growth in the same stage, the largest over the stages. (The whole builds'
    peaks can fall in different stages: a small city's in the save stage, where the car and
    its animation are most of it, a large one's in the buildings stage.)
    """
    net_peaks = [
        stage["peak_growth"] - fixed_stage["peak_growth"]
        for stage, fixed_stage in zip(memory["stages"], fixed_memory["stages"], strict=True)
    ]
    return {
        "ms_raw": timing["seconds"] * 1000 / size,
        "ms_net": timing["net_seconds"] * 1000 / (size - FIXED),
        "kib_net": max(net_peaks) / 1024 / (size - FIXED),
    }


def stage_table(memory: dict, timing: dict, sizes) -> dict:
    """Per stage and size: seconds, net µs per building, peak growth, Blender after."""
    names = [stage["name"] for stage in memory[sizes[0]]["stages"]]
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
            stage = memory[size]["stages"][index]
            net = timing[size]["stage_net_seconds"][index] * 1e6 / (size - FIXED)
            row += [
                f"{timing[size]['stage_seconds'][index]:.3f}",
                f"{net:.1f}",
                f"{stage['peak_growth'] / 2**20:.1f}",
                f"{stage['blender_after'] / 2**20:.1f}",
            ]
        rows.append(row)
    total = ["whole build"]
    for size in sizes:
        net = timing[size]["net_seconds"] * 1e6 / (size - FIXED)
        peak = memory[size]["peak_growth"] / 2**20
        total += [f"{timing[size]['seconds']:.3f}", f"{net:.1f}", f"{peak:.1f}", ""]
    rows.append(total)
    return {
        "title": "Per stage: median wall time (body + boundary), net time per building (µs: "
        "minus the fixed-cost windows around it), peak RSS above the RSS before the "
        "build, Blender's allocator after the stage above the same point",
        "columns": columns,
        "rows": rows,
    }


def make_scale_row(
    memory: dict, timing: dict, sizes, rounds: tuple[int, int], window_s: float
) -> dict:
    """The ``scale`` row: a variant per size, the 100 k / 1 k ratios, the stage table."""
    from report import make_row, ratio

    fixed = memory[FIXED]
    variants, costs = {}, {}
    for size in sizes:
        cost = costs[size] = per_building(memory[size], timing[size], fixed, size)
        variants[f"{size:,} buildings"] = {
            "build_s": timing[size]["seconds"],
            "fixed_cost_alongside_s": timing[size]["fixed_seconds"],
            "builds_timed_count": timing[size]["builds"],
            "peak_rss_mib": memory[size]["peak_rss"] / 2**20,
            "peak_growth_mib": memory[size]["peak_growth"] / 2**20,
            "time_per_building_raw_ms": cost["ms_raw"],
            "time_per_building_net_ms": cost["ms_net"],
            "peak_per_building_net_kib": cost["kib_net"],
        }
    variants[f"fixed cost ({FIXED}-building, one-block city)"] = {
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
    peak_large = memory[large]["peak_rss"]
    met = time_flat <= 1 + TOLERANCE and memory_flat <= 1 + TOLERANCE and peak_large < PEAK_LIMIT
    ratios = [
        ratio(
            f"time per building (net: minus the fixed-cost windows alongside), {large:,} vs "
            f"{small:,} buildings (largest/smallest over all sizes: {time_flat:.2f})",
            time_ratio,
        ),
        ratio(
            f"peak RSS growth per building (net), {large:,} vs {small:,} buildings "
            f"(largest/smallest over all sizes: {memory_flat:.2f})",
            memory_ratio,
        ),
        ratio(f"peak RSS of the {large:,}-building build, GiB (limit 2)", peak_large / GIB),
    ]
    time_rounds, memory_rounds = rounds
    return make_row(
        "scale",
        f"Scale: full builds of {', '.join(f'{s:,}' for s in sizes)} buildings",
        "Full builds (parse to save, default budget) of generated cities along one 300 m "
        f"route. Time: {time_rounds} processes each building every size over windows of "
        f"{window_s:g} s (means per build), between windows of the fixed cost's ({FIXED}-building, "
        f"one-block) city; memory: the first build in a fresh process, {memory_rounds} per size; "
        "medians.",
        variants,
        ratios,
        rounds=time_rounds,
        target=f"time and peak growth per building (net) within {TOLERANCE:.0%} of each other "
        f"from {small:,} to {large:,} buildings; the {large:,} build under 2 GiB peak RSS",
        target_met=met,
        tables=[stage_table(memory, timing, sizes)],
    )


def main() -> None:
    """Write the cities; run the memory and the time processes; write the row."""
    from _common import balanced_order, bench_parser, machine, write_json

    parser = bench_parser(__doc__.splitlines()[0], "one round of each (default: 5 and 3)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="building counts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *arguments = json.loads(args.child)
        answer = memory_child(*arguments) if kind == "memory" else time_child(*arguments)
        print(json.dumps(answer), flush=True)
        return
    sizes = tuple(int(size) for size in args.sizes.split(","))
    time_rounds = args.repeats or (1 if args.quick else 3)
    memory_rounds = 1 if args.quick else 3
    # Seconds per timed window: a quick run only checks that everything works.
    window_s = 1.0 if args.quick else WINDOW_S
    memory_runs: dict[int, list[dict]] = {size: [] for size in (FIXED, *sizes)}
    time_runs: list[dict] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="leanroute-scale-") as temporary:
        folder = Path(temporary)
        cities = write_cities(folder, sizes)
        fixed_city = list(cities[str(FIXED)])
        for round_index in range(memory_rounds):
            for size in balanced_order([FIXED, *sizes], round_index):
                figures = run_child("memory", [*cities[str(size)], *fixed_city, str(folder)])
                check_built(figures, size)
                memory_runs[size].append(figures)
                print(
                    f"memory {round_index + 1}/{memory_rounds}: {size:>7,} buildings, peak "
                    f"{figures['peak_rss'] / 2**20:7.1f} MiB "
                    f"(+{figures['peak_growth'] / 2**20:.1f})",
                    flush=True,
                )
        for round_index in range(time_rounds):
            order = balanced_order(list(sizes), round_index)
            timed = run_child("time", [cities, order, window_s, str(folder)])
            time_runs.append(timed)
            print(
                f"time {round_index + 1}/{time_rounds}: "
                + ", ".join(
                    f"{size:,}: {timed[str(size)]['seconds']:.2f} s ({timed[str(size)]['builds']})"
                    for size in sizes
                ),
                flush=True,
            )
    memory = {size: memory_summary(runs) for size, runs in memory_runs.items()}
    timing = {size: time_summary(time_runs, size) for size in sizes}
    row = make_scale_row(memory, timing, sizes, (time_rounds, memory_rounds), window_s)
    path = write_json(
        "scale",
        {
            "machine": machine(),
            "seconds": time.perf_counter() - started,
            "rows": [row],
            "memory_runs": {str(size): runs for size, runs in memory_runs.items()},
            "time_runs": time_runs,
        },
    )
    for item in row["ratios"]:
        print(f"{item['what']}: {item['value']:.3f}")
    print(f"target met: {row['target_met']}; wrote {path}")


if __name__ == "__main__":
    main()
