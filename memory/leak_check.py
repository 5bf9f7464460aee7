"""``leak_check(fn, runs=N)``: run a callable N times and tell whether memory grows."""

import gc
import time
import tracemalloc
from collections.abc import Callable

from .growth import AllocationSite, LeakCheckReport, judge
from .heap_trim import return_memory_to_os
from .snapshot import take_snapshot


def leak_check(
    fn: Callable[[], object],
    runs: int = 5,
    *,
    warmup: int = 1,
    trace_python: bool = False,
    tolerance: "dict[str, float] | None" = None,
    top: int = 10,
) -> LeakCheckReport:
    """Run *fn* ``warmup + runs`` times and fit the memory growth per run.

    Each measurement follows a gc collection and a heap trim, so only what *fn* keeps
    alive counts as growth.

    *tolerance* overrides the growth per run allowed for "rss" and "blender" (bytes),
    "live_bmeshes" and "datablocks" (counts). With *trace_python*, tracemalloc runs and the
    report lists the *top* Python allocation sites by growth.
    """
    if runs < 2:
        raise ValueError(f"leak_check needs at least 2 runs to fit a growth, not {runs}")
    started = time.perf_counter()
    for _ in range(warmup):
        fn()
    tracing = trace_python and not tracemalloc.is_tracing()
    if tracing:
        tracemalloc.start()
    report = LeakCheckReport(runs)
    try:
        first_trace = _settle_and_record(report, trace_python)
        for _ in range(runs):
            fn()
            last_trace = _settle_and_record(report, trace_python)
        if first_trace is not None and last_trace is not None:
            stats = last_trace.compare_to(first_trace, "lineno")
            report.top_python_growth = [
                AllocationSite(str(stat.traceback), stat.size_diff, stat.count_diff)
                for stat in stats[:top]
                if stat.size_diff > 0
            ]
    finally:
        if tracing:
            tracemalloc.stop()
    judge(report, tolerance)
    report.seconds = time.perf_counter() - started
    return report


def _settle_and_record(report: LeakCheckReport, trace_python: bool):
    gc.collect()
    return_memory_to_os()
    snapshot = take_snapshot(uss=False)
    report.add_reading(snapshot.rss, snapshot.blender, snapshot.live_bmeshes, snapshot.datablocks)
    if trace_python and tracemalloc.is_tracing():
        return tracemalloc.take_snapshot()
    return None
