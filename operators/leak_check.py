# SPDX-License-Identifier: GPL-3.0-or-later
"""Leak Check: rebuild the route scene N times and fit the memory growth per rebuild."""

import bpy

from ..memory.leak_check import leak_check
from ..memory.units import format_bytes
from ..route.errors import describe
from .build_job import BuildJob
from .poll import can_build


def verdict_line(report) -> str:
    """``Leak check over 5 rebuilds: FLAT (RSS +0.1 MiB/run, Blender +0 B/run, …)``."""
    growth = report.growth
    return (
        f"Leak check over {report.runs} rebuilds: {report.verdict.upper()} "
        f"(RSS {format_bytes(growth.get('rss'), signed=True)}/run, "
        f"Blender {format_bytes(growth.get('blender'), signed=True)}/run, "
        f"data-blocks {growth.get('datablocks', 0):+.2f}/run, "
        f"BMeshes {growth.get('live_bmeshes', 0):+.2f}/run)"
    )


class LEANROUTE_OT_leak_check(bpy.types.Operator):
    """Rebuild the route scene several times"""

    bl_description = (
        "Rebuild the route scene several times (after one warm-up build) and measure how "
        "much memory grows per rebuild: RSS, Blender's allocator, data-blocks and live "
        "BMeshes. Flat means rebuilding leaks nothing"
    )

    bl_idname = "leanroute.leak_check"
    bl_label = "Leak Check"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return can_build(cls, context)

    def execute(self, context):
        inputs = context.scene.leanroute
        runs = inputs.leak_check_runs
        wm = context.window_manager
        done = [0]

        def rebuild():
            BuildJob(context).run()
            done[0] += 1
            wm.progress_update(done[0])

        wm.progress_begin(0, runs + 1)
        try:
            BuildJob(context)  # refuse bad inputs before the first rebuild
            report = leak_check(rebuild, runs=runs, warmup=1)
        except Exception as error:
            self.report({"ERROR"}, describe(error))
            return {"CANCELLED"}
        finally:
            wm.progress_end()
        inputs.last_leak_check = report.to_json()
        self.report({"INFO"} if report.flat else {"WARNING"}, verdict_line(report))
        return {"FINISHED"}
