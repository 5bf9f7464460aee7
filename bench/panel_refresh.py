"""What keeping the Memory panel fresh costs, next to Blender redrawing the same scene.

The panel measures again at most once per refresh interval (1 s by default) and only while
it is visible. Here, side by side in one process on the whole Krems build (1,195
buildings, 836 roads):

- **figures**: one full measurement (RSS, USS, Blender's allocator, live BMeshes, orphans
  by type, caches, undo settings), and one without USS (4 in 5 refreshes skip it);
- **largest**: the "largest data-blocks" list (refreshed every 5 intervals);
- **scene.statistics()**: what Blender's status bar computes on its own redraws, for scale.

The ratio that matters: milliseconds of refresh per second of wall time (busy share).

Run: ``.venv/bin/python bench/panel_refresh.py [--quick]``.
Writes ``bench/results/panel_refresh.json``.
"""

import statistics
import time

import bpy
from _common import bench_parser, machine, write_json
from rebuild_leak import settings
from report import make_row, ratio

from leanroute.memory.largest_datablocks import largest_datablocks
from leanroute.panels.live_memory import measure
from leanroute.route.build import SceneBuild


def timed(fn, repeats: int) -> dict:
    """Median and worst milliseconds of *fn* over *repeats* calls (interleaved callers)."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": statistics.median(samples), "max_ms": max(samples), "n": repeats}


def main() -> None:
    """Build Krems once, then time each refresh part, interleaved, and write the results."""
    args = bench_parser(__doc__.splitlines()[0], "20 repeats instead of 200").parse_args()
    repeats = args.repeats or (20 if args.quick else 200)
    bpy.ops.wm.read_factory_settings(use_empty=False)
    SceneBuild(settings()).run()
    scene, layer = bpy.context.scene, bpy.context.view_layer
    parts = {
        "figures_with_uss": lambda: measure(uss=True),
        "figures_without_uss": lambda: measure(uss=False),
        "largest_datablocks": lambda: largest_datablocks(limit=8),
        "scene_statistics": lambda: scene.statistics(layer),
    }
    results = {name: [] for name in parts}
    for _ in range(repeats):  # interleaved, so machine noise hits every part alike
        for name, fn in parts.items():
            results[name].append(timed(fn, 1)["median_ms"])
    summary = {
        name: {"median_ms": statistics.median(v), "max_ms": max(v)} for name, v in results.items()
    }
    figures = (
        summary["figures_with_uss"]["median_ms"] + 4 * summary["figures_without_uss"]["median_ms"]
    ) / 5
    busy = figures + summary["largest_datablocks"]["median_ms"] / 5  # per 1 s interval
    data = {
        "machine": machine(),
        "scene": {"objects": len(bpy.data.objects), "meshes": len(bpy.data.meshes)},
        "repeats": repeats,
        "parts": summary,
        "refresh_ms_per_second_at_1s_interval": round(busy, 3),
        "busy_share_at_1s_interval": round(busy / 1000, 5),
        "figures_vs_scene_statistics": round(figures / summary["scene_statistics"]["median_ms"], 2),
    }
    labels = {
        "figures_with_uss": "panel figures, with USS",
        "figures_without_uss": "panel figures, without USS (4 in 5 refreshes)",
        "largest_datablocks": "largest data-blocks list (1 in 5 refreshes)",
        "scene_statistics": "scene.statistics() (Blender's status bar, for scale)",
    }
    data["rows"] = [
        make_row(
            "panel_refresh",
            "Memory panel refresh vs Blender's own scene.statistics()",
            "Time of one refresh of each part of the Memory panel on the whole Krems build, "
            "next to scene.statistics() on the same scene; the parts interleaved, each "
            "called once per repeat.",
            {
                labels[name]: {"seconds": v["median_ms"] / 1000, "worst_s": v["max_ms"] / 1000}
                for name, v in summary.items()
            },
            [
                ratio(
                    "panel figures (average refresh) / scene.statistics()",
                    data["figures_vs_scene_statistics"],
                ),
                ratio("busy share while visible at a 1 s interval, percent", busy / 10),
            ],
            rounds=repeats,
        )
    ]
    write_json("panel_refresh", data)
    print(
        f"panel refresh: {busy:.2f} ms per second while visible ({busy / 10:.2f} % of one core); "
        f"figures {figures:.2f} ms = {data['figures_vs_scene_statistics']}x scene.statistics()"
    )


if __name__ == "__main__":
    main()
