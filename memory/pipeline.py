"""Pipelines of guarded stages: the stage-boundary API of LeanRoute's memory hygiene.

::

    pipeline = Pipeline("build", budget=MemoryBudget(soft="1.5 GB", hard="2 GB"))
    with pipeline:
        with pipeline.stage("parse"):
            data = parse(path)
        with pipeline.stage("roads") as stage:
            for chunk in chunks:
                build(chunk)
                stage.checkpoint()
    print(pipeline.report.table())

For every stage the report records RSS, USS, Blender's allocator, the traced Python heap,
live BMeshes and data-block counts before, at peak and after; what its cleanup freed; the
BMeshes it leaked (freed by the sweeper, with their creation sites). A stage that raises,
or goes over the hard budget, is rolled back: the data-blocks it created are removed and
its BMeshes freed. Data-blocks that later become orphans are removed at a boundary only if
this pipeline created them.
"""

import platform
import sys
import time
import tracemalloc

import bpy

from . import process_memory
from .blender_stats import undo_settings
from .budget import MemoryBudget, StageForecast
from .cleanup_policy import CleanupPolicy
from .datablock_owner import DataBlockOwner
from .gc_policy import GCFreeze, GCPolicy
from .heap_trim import trim_method
from .report import PipelineReport
from .sampler import MemorySampler
from .stage_boundary import Stage


class Pipeline:
    """Named stages sharing one sampler thread, one budget and one data-block owner."""

    def __init__(
        self,
        name: str = "pipeline",
        *,
        policy: "CleanupPolicy | None" = None,
        budget: "MemoryBudget | None" = None,
        gc_policy: "GCPolicy | None" = None,
        sampler_interval: float = 0.01,
        owner: "DataBlockOwner | None" = None,
    ):
        self.name = name
        self.policy = policy or CleanupPolicy()
        self.budget = budget or MemoryBudget.default()
        self.gc_policy = gc_policy or GCPolicy()
        self.sampler = MemorySampler(sampler_interval)
        self.owner = owner or DataBlockOwner()
        self.report = PipelineReport(name)
        self._users = 0
        self._freeze: GCFreeze | None = None
        self._started_tracing = False
        self._open_stages: list[Stage] = []
        self._python_peaks: dict[int, int] = {}
        self._started = 0.0

    def stage(self, name: str, *, forecast: "StageForecast | None" = None) -> Stage:
        """A new guarded stage of this pipeline, to use as a context manager.

        With a *forecast* of the stage's RSS growth, a stage that would go over the hard
        budget is refused before it starts (:class:`.budget.MemoryBudgetForecast`).
        """
        return Stage(self, name, forecast)

    def check_forecasts(self, forecasts: "dict[str, StageForecast]") -> None:
        """Refuse now if any of these coming stages is expected to go over the hard budget.

        The budget is resolved as a stage starting now would resolve it; raises
        :class:`.budget.MemoryBudgetForecast` naming the first stage that would not fit, so
        a build can stop before its first stage rather than in the middle.
        """
        if not forecasts or not self.budget.enabled:
            return
        rss = process_memory.rss_bytes()
        resolved = self.budget.resolve(rss, process_memory.available_bytes())
        for name, forecast in forecasts.items():
            resolved.refuse_forecast(name, rss, forecast)

    def __enter__(self) -> "Pipeline":
        self._acquire()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        for open_stage in reversed(list(self._open_stages)):
            open_stage.abandon()
        self._release()

    # -- resources shared by the stages: sampler, gc freeze, tracemalloc ---------------

    def _acquire(self) -> None:
        self._users += 1
        if self._users > 1:
            return
        self._started = time.perf_counter()
        self.report.started = time.time()
        self.report.environment = environment()
        self.report.settings = {
            "policy": self.policy.to_dict(),
            "budget": self.budget.to_dict(),
            "gc_policy": self.gc_policy.to_dict(),
            "sampler_interval": self.sampler.interval,
        }
        if self.policy.trace_python and not tracemalloc.is_tracing():
            tracemalloc.start()
            self._started_tracing = True
        self._freeze = GCFreeze(self.gc_policy.freeze).__enter__()
        self.sampler.start()

    def _release(self) -> None:
        self._users -= 1
        if self._users > 0:
            return
        self.sampler.stop()
        self.report.rss_timeline = [(round(t, 4), rss) for t, rss in self.sampler.timeline()]
        if self._freeze is not None:
            self._freeze.__exit__(None, None, None)
            self._freeze = None
        if self._started_tracing:
            tracemalloc.stop()
            self._started_tracing = False
        self.report.wall_seconds += time.perf_counter() - self._started

    def _open_python_peak(self, stage: Stage) -> None:
        # tracemalloc has one peak: fold it into every open stage before resetting it.
        self._fold_python_peak()
        self._open_stages.append(stage)
        self._python_peaks[id(stage)] = 0
        if tracemalloc.is_tracing():
            tracemalloc.reset_peak()

    def _fold_python_peak(self) -> None:
        if not tracemalloc.is_tracing():
            return
        peak = tracemalloc.get_traced_memory()[1]
        for open_stage in self._open_stages:
            key = id(open_stage)
            self._python_peaks[key] = max(self._python_peaks.get(key, 0), peak)

    def _close_python_peak(self, stage: Stage) -> None:
        self._fold_python_peak()
        if stage in self._open_stages:
            self._open_stages.remove(stage)
        peak = self._python_peaks.pop(id(stage), 0)
        stage.report.peak.python_heap = peak if tracemalloc.is_tracing() else None


def stage(name: str, **pipeline_options) -> Stage:
    """Return one guarded stage of its own one-stage pipeline.

    For code outside a pipeline: ``with stage("import"): ...``.
    """
    return Pipeline(name, **pipeline_options).stage(name)


def environment() -> dict[str, str]:
    """Where the figures were measured."""
    return {
        "blender": bpy.app.version_string,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "memory_source": process_memory.source(),
        "heap_trim": trim_method(),
        "executable": sys.executable,
        # Blender has no Python figure of undo memory in use; its limits are the next best.
        **{key: str(value) for key, value in undo_settings().items()},
    }
