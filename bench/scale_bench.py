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
- **time**: every size in one process, pinned to one CPU, the sizes taking turns
  (``CYCLES`` of them, each ``WINDOW_S / CYCLES`` seconds of builds a size, at least one), every
  city build between two builds of the fixed-cost city; the figures are means per build,
  medians over the processes. This shared VM switches between full and about half speed for
  seconds at a time, each CPU on its own (a 1 k build takes 0.17 or 0.28 s), and nothing the
  kernel reports shows it: one 8 s stretch per size saw different mixes of the two speeds
  from the next size's, which put the time per building 1.04 apart in one run and 1.36 in
  another; taking turns spreads every size over the same minute. A probe thread also times a
  fixed hash every 20 ms on the same CPU, each build and stage gets the share of its time
  the machine was slow, and one slowdown factor per process, fitted over all its builds,
  turns every build into an estimate of its **full-speed** time (``bench/machine_speed.py``).
  The target is judged on the measured times; the estimate, and each size's share of time in
  the slow state, are reported beside them to show how much of a gap is the machine's. (The
  estimate is a model: the machine has more than two speeds, and a process that never saw
  the fastest one anchors "full speed" lower.) Alternating city and fixed-cost builds keeps
  the measured net times from depending on which speed each of the two got.

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
#: Seconds of city builds per size in one time process (about one 100 k build here): the small
#: cities get as many builds as the slowdown fit needs to see both of the machine's speeds.
WINDOW_S = 8.0
#: Turns per time process: each turn builds every size for WINDOW_S / CYCLES seconds (at least
#: one build, so the 100 k city builds once a turn), the small ones interleaved, so every size
#: is timed across the whole process, beside the others, not in a stretch of its own.
CYCLES = 4


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


def _blend(folder: str, osm: str) -> Path:
    """Where the build of *osm* saves: a file per city.

    One shared file cost the first build after a larger city's ~70 ms more in the save stage
    (replacing the larger file), which made 1 k builds look dearer per building.
    """
    return Path(folder) / f"{Path(osm).stem}.blend"


def memory_child(osm: str, route: list, fixed_osm: str, fixed_route: list, out: str) -> dict:
    """The first build of *osm* in a warmed-up process: memory figures (and its time)."""
    settings, remove, _ = _builder(fixed_osm, fixed_route, out)
    return measured_build(settings(osm, route, out=_blend(out, osm)), remove)


def time_child(cities: dict, order: list, window_s: float, cycles: int, out: str) -> dict:
    """Every size in *order*, in *cycles* turns, timed in builds alternating with fixed-cost ones.

    Each turn gives every size ``window_s / cycles`` seconds of builds, interleaved
    (:func:`timed_turn`), so the sizes' builds spread over the same stretch of the machine's
    history. The process is pinned to one CPU with a :class:`machine_speed.SpeedProbe` beside
    it, and every build gets its slow fraction (see ``bench/machine_speed.py``).
    """
    from machine_speed import SlowFractions, SpeedProbe, pin_to_one_cpu

    cpu = pin_to_one_cpu()  # before Blender starts threads: they inherit it
    fixed_osm, fixed_route = cities[str(FIXED)]
    settings, remove, fixed = _builder(fixed_osm, fixed_route, out)
    sized = {}
    for size in order:
        path, route = cities[str(size)]
        sized[str(size)] = settings(path, route, out=_blend(out, path))
    windows: dict[str, dict] = {size: {"city": [], "fixed": []} for size in sized}
    with SpeedProbe() as probe:
        for _ in range(cycles):
            for size, turn in timed_turn(sized, fixed, remove, window_s / cycles).items():
                windows[size]["city"] += turn["city"]
                windows[size]["fixed"] += turn["fixed"]
    fractions = SlowFractions(probe.samples)
    for window in windows.values():
        for build in (*window["city"], *window["fixed"]):
            build["slow"] = fractions.between(build["start"], build["start"] + build["seconds"])
    states = fractions.states
    return {
        "cpu": cpu,
        "probe": {"samples": len(probe.samples), "fast_s": states.fast_s, "slow_s": states.slow_s},
        "windows": windows,
    }


def timed_turn(cities: dict, fixed, remove, turn_s: float) -> dict:
    """One turn: builds of every city in *cities* ({size: settings}) for *turn_s* seconds each.

    The next build is always of the size with the least build time so far in the turn (at
    least one build each, so a 100 k city builds once), which interleaves the small sizes
    build by build: they see the same mix of the machine's speeds. Every city build sits
    between two fixed-cost builds, both counted as that size's fixed cost alongside, so the
    net cost (the difference) does not depend on which speed each happened to get.
    """
    from leanroute.route.build import SceneBuild

    def build(settings) -> dict:
        started = time.perf_counter()
        result = SceneBuild(settings).run()
        seconds = time.perf_counter() - started
        stages = [s.wall_seconds + s.boundary_seconds for s in result.report.stages]
        remove(result)
        return {"start": started, "seconds": seconds, "stage_seconds": stages}

    turn = {size: {"city": [], "fixed": []} for size in cities}
    spent = dict.fromkeys(cities, 0.0)
    before = build(fixed)
    while waiting := [size for size in cities if spent[size] < turn_s]:
        size = min(waiting, key=spent.__getitem__)  # ties go to the first in *cities*
        city = build(cities[size])
        after = build(fixed)
        fixed_alongside = turn[size]["fixed"]
        if not fixed_alongside or fixed_alongside[-1] is not before:
            fixed_alongside.append(before)
        fixed_alongside.append(after)
        turn[size]["city"].append(city)
        spent[size] += city["seconds"]
        before = after
    return turn


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


def process_times(process: dict) -> dict:
    """One time process's figures per size: raw window means, and full speed under its slowdown.

    Raw: the city builds' mean, and the mean of the fixed-cost builds alternating with them.
    Stages: the same, as measured. Full speed (an estimate): :func:`machine_speed.fit_slowdown`
    over the process's groups of whole builds (each size, and every fixed-cost build).
    """
    from machine_speed import fit_slowdown

    windows = process["windows"]
    # A fixed-cost build between two sizes' builds is in both their lists: count it once.
    every_fixed = list(
        {build["start"]: build for window in windows.values() for build in window["fixed"]}.values()
    )
    groups = {size: window["city"] for size, window in windows.items()}
    slowdown, estimates = fit_slowdown(
        {
            name: [(build["slow"], build["seconds"]) for build in builds]
            for name, builds in {**groups, "fixed": every_fixed}.items()
        }
    )

    def stage_means(builds) -> list:
        columns = zip(*(build["stage_seconds"] for build in builds), strict=True)
        return [statistics.fmean(column) for column in columns]

    figures = {}
    for size, window in windows.items():
        city, fixed = window["city"], window["fixed"]
        seconds = statistics.fmean(b["seconds"] for b in city)
        fixed_seconds = statistics.fmean(b["seconds"] for b in fixed)
        figures[size] = {
            "builds": len(city),
            "seconds": seconds,
            "fixed_seconds": fixed_seconds,
            "net_seconds": seconds - fixed_seconds,
            "slow_fraction": statistics.fmean(b["slow"] for b in city),
            "slowdown": slowdown,
            "full_speed_seconds": estimates[size],
            "full_speed_fixed_seconds": estimates["fixed"],
            "full_speed_net_seconds": estimates[size] - estimates["fixed"],
            "stage_seconds": stage_means(city),
            "stage_net_seconds": [
                one - two for one, two in zip(stage_means(city), stage_means(fixed), strict=True)
            ],
        }
    return figures


def time_summary(runs: "list[dict]") -> dict:
    """One size's times: medians over *runs*, its :func:`process_times` figures per process.

    Stage figures are medians stage by stage.
    """
    summary = {"builds": sum(run["builds"] for run in runs)}
    for key, value in runs[0].items():
        if key == "builds":
            continue
        if isinstance(value, list):
            summary[key] = [
                statistics.median(run[key][i] for run in runs) for i in range(len(value))
            ]
        else:
            summary[key] = statistics.median(run[key] for run in runs)
    return summary


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
        "ms_full_speed": timing["full_speed_net_seconds"] * 1000 / (size - FIXED),
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
        "title": "Per stage: median wall time (body + boundary, as measured), net time per "
        "building (µs, minus the fixed-cost builds' same stage in the same turns), peak RSS above "
        "the RSS before the build, Blender's allocator after the stage above the same point",
        "columns": columns,
        "rows": rows,
    }


def make_scale_row(
    memory: dict, timing: dict, sizes, rounds: tuple[int, int], window_s: float, cycles: int
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
            "time_per_building_net_full_speed_ms": cost["ms_full_speed"],
            "slow_state_percent": 100 * timing[size]["slow_fraction"],
            "peak_per_building_net_kib": cost["kib_net"],
        }
    variants[f"fixed cost ({FIXED}-building, one-block city)"] = {
        "peak_rss_mib": fixed["peak_rss"] / 2**20,
        "peak_growth_mib": fixed["peak_growth"] / 2**20,
    }
    small, large = min(sizes), max(sizes)

    def flat(key: str) -> float:
        values = [cost[key] for cost in costs.values()]
        return max(values) / min(values)

    time_ratio = costs[large]["ms_full_speed"] / costs[small]["ms_full_speed"]
    raw_ratio = costs[large]["ms_net"] / costs[small]["ms_net"]
    memory_ratio = costs[large]["kib_net"] / costs[small]["kib_net"]
    time_flat, raw_flat, memory_flat = flat("ms_full_speed"), flat("ms_net"), flat("kib_net")
    peak_large = memory[large]["peak_rss"]
    met = raw_flat <= 1 + TOLERANCE and memory_flat <= 1 + TOLERANCE and peak_large < PEAK_LIMIT
    ratios = [
        ratio(
            f"time per building (net, as measured), {large:,} vs {small:,} buildings "
            f"(largest/smallest over all sizes: {raw_flat:.2f})",
            raw_ratio,
        ),
        ratio(
            f"time per building (net, estimated at full speed), {large:,} vs {small:,} "
            f"buildings (largest/smallest over all sizes: {time_flat:.2f})",
            time_ratio,
        ),
        ratio(
            f"peak RSS growth per building (net), {large:,} vs {small:,} buildings "
            f"(largest/smallest over all sizes: {memory_flat:.2f})",
            memory_ratio,
        ),
        ratio(f"peak RSS of the {large:,}-building build, GiB (limit 2)", peak_large / GIB),
        ratio(
            "the machine's slow state, as a factor on build time (fitted per time process)",
            statistics.median(timing[size]["slowdown"] for size in sizes),
        ),
    ]
    time_rounds, memory_rounds = rounds
    return make_row(
        "scale",
        f"Scale: full builds of {', '.join(f'{s:,}' for s in sizes)} buildings",
        "Full builds (parse to save, default budget) of generated cities along one 300 m "
        f"route. Time: {time_rounds} processes, pinned to one CPU beside a speed probe, each "
        f"building every size in {cycles} turns of {window_s / cycles:g} s (at least one build), "
        f"alternating with builds of the fixed cost's ({FIXED}-building, one-block) city; "
        "means per build, as measured and at "
        "full speed (the machine's slow state taken out, see bench/machine_speed.py); memory: "
        f"the first build in a fresh process, {memory_rounds} per size; medians.",
        variants,
        ratios,
        rounds=time_rounds,
        target=f"time and peak growth per building (net, as measured) within "
        f"{TOLERANCE:.0%} of each other from {small:,} to {large:,} buildings; the {large:,} "
        "build under 2 GiB peak RSS",
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
    window_s, cycles = (1.0, 1) if args.quick else (WINDOW_S, CYCLES)
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
            timed = run_child("time", [cities, order, window_s, cycles, str(folder)])
            time_runs.append(timed)
            print(
                f"time {round_index + 1}/{time_rounds}: "
                + ", ".join(
                    f"{size:,}: {len(window['city'])} builds"
                    for size, window in ((s, timed["windows"][str(s)]) for s in sizes)
                )
                + "; probe {fast_s:.1e}/{slow_s:.1e} s fast/slow".format(**timed["probe"]),
                flush=True,
            )
    memory = {size: memory_summary(runs) for size, runs in memory_runs.items()}
    # One slowdown fit per process, shared by its sizes.
    per_process = [process_times(process) for process in time_runs]
    timing = {size: time_summary([times[str(size)] for times in per_process]) for size in sizes}
    row = make_scale_row(memory, timing, sizes, (time_rounds, memory_rounds), window_s, cycles)
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
