"""One route-scene build as named stages, each under memory/'s stage boundary.

::

    result = SceneBuild(settings).run()           # blocking: scripts, CLI, batch, tests
    print(result.report.table())

    build = SceneBuild(settings)                  # one stage per call: the panel's modal operator
    build.start()
    while not build.done:
        build.step()                              # build.cancel() rolls everything back

Stages: parse, project, route, roads, buildings, ground, route objects, animation, save.
The new build goes into a fresh ``LeanRoute`` collection beside the previous one; only when
every scene stage has succeeded is the previous build removed (data-blocks, not orphans).
A failure or cancel removes what this build made and restores the scene settings it changed,
so the scene is as it was; output files are written under temporary names and renamed.

Before each stage, its memory forecast and those of the later stages that can already be
estimated (:mod:`.memory_forecast`: from the file's size, then from the parsed counts) are
checked against the hard budget, the default one included (80 % of the memory available);
a build that would not fit stops with :class:`~..memory.budget.MemoryBudgetForecast` before
the stage that would not, and is rolled back like any other failure.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import bpy

from ..memory.budget import MemoryBudget
from ..memory.cleanup_policy import CleanupPolicy
from ..memory.gc_policy import GCPolicy
from ..memory.pipeline import Pipeline
from ..memory.report import PipelineReport
from . import scene_stages
from .build_paths import check_build_paths
from .interrupts import interruptible, raise_if_interrupted
from .kill_points import reached
from .settings import BuildSettings

#: The stage names in order, as :mod:`.scene_stages` defines them.
STAGES = tuple(scene_stages.STAGE_BODIES)


@dataclass
class BuildResult:
    """What a finished build made and measured."""

    report: PipelineReport
    collection: str
    out: "Path | None"
    report_path: "Path | None"
    results: dict = field(default_factory=dict)


class SceneBuild:
    """A build run stage by stage; see the module's docstring."""

    def __init__(
        self,
        settings: BuildSettings,
        *,
        scene: "bpy.types.Scene | None" = None,
        policy: "CleanupPolicy | None" = None,
        budget: "MemoryBudget | None" = None,
        gc_policy: "GCPolicy | None" = None,
        on_stage: "Callable[[str, int, int], None] | None" = None,
        sampler_interval: float = 0.01,
    ):
        self.settings = settings
        self.scene = scene or bpy.context.scene
        self.pipeline = Pipeline(
            f"build {settings.osm.name}",
            policy=policy,
            budget=budget,
            gc_policy=gc_policy,
            sampler_interval=sampler_interval,
        )
        self.state = scene_stages.BuildState(
            settings,
            self.scene,
            self.pipeline.owner.token,
            remove_replaced=self.pipeline.policy.remove_orphans,
        )
        self.on_stage = on_stage
        self._next = 0
        self._open = False
        self._finished = False

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The stages this build runs, in order."""
        return STAGES

    @property
    def done(self) -> bool:
        """True once every stage has run (or the build failed or was cancelled)."""
        return self._finished

    @property
    def next_stage(self) -> "str | None":
        """The name of the stage :meth:`step` runs next."""
        return None if self._finished else STAGES[self._next]

    @property
    def fraction(self) -> float:
        """Progress from 0 to 1."""
        return self._next / len(STAGES)

    def start(self) -> None:
        """Check the outputs can be written, then open the pipeline (sampler, gc policy)."""
        if self._open or self._finished:
            raise RuntimeError("this build was already started; make a new SceneBuild")
        # Outputs that are inputs, devices, folders or too long; a car file that is no .blend.
        check_build_paths(self.settings)
        self.state.remember_scene_settings()
        self.pipeline.__enter__()
        self._open = True

    def step(self) -> None:
        """Run the next stage; on failure roll the whole build back and re-raise."""
        if not self._open:
            raise RuntimeError("call start() before step()")
        name = STAGES[self._next]
        if self.on_stage is not None:
            self.on_stage(name, self._next, len(STAGES))
        try:
            # Every coming stage that can be estimated now is checked against the budget,
            # so a build that will not fit stops before it has spent time on earlier stages.
            forecasts = self.state.forecasts(STAGES[self._next :])
            self.pipeline.check_forecasts(forecasts)
            # Ctrl+C or SIGTERM stops a build only inside a stage's body (or at the commit
            # below), where the stage's rollback undoes whatever it had done.
            with (
                self.pipeline.stage(name, forecast=forecasts.get(name)) as stage,
                interruptible(),
            ):
                scene_stages.run_stage(name, self.state, stage)
                reached("stage-end", name)
        except BaseException:
            self._roll_back()
            raise
        self._next += 1
        if self._next == len(STAGES):
            self._close()

    def cancel(self) -> None:
        """Stop before the next stage and roll the scene back to how it was."""
        if self._open:
            self._roll_back()

    def run(self) -> BuildResult:
        """Run every stage; returns the result (or raises, with the scene rolled back)."""
        self.start()
        while not self.done:
            self.step()
        return self.result()

    def result(self) -> BuildResult:
        """The finished build's result."""
        state = self.state
        return BuildResult(
            self.pipeline.report,
            state.collection_name,
            self.settings.out,
            self.settings.report,
            state.results,
        )

    # -- internals ---------------------------------------------------------------------

    def _close(self) -> None:
        self.pipeline.__exit__(None, None, None)
        self._open = False
        self._finished = True
        report = self.pipeline.report
        report.results = self.state.results
        report.settings["build"] = self.settings.to_dict()
        outputs = self.state.outputs
        try:
            if self.settings.report is not None:
                outputs.write_text(self.settings.report, report.to_json(indent=1))
            # The last moment a signal rolls the build back; the renames are not interrupted.
            raise_if_interrupted()
            outputs.commit()
        except BaseException:
            self._roll_back()
            raise
        # The outputs are in place: the replaced build will not be needed again.
        if self.state.replacement is not None:
            self.state.replacement.discard()
            self.state.replacement = None

    def _roll_back(self) -> None:
        # No output under its final name: the temporaries written so far go first.
        self.state.outputs.discard()
        # The previous build comes back first (it was replaced in the save stage): the user's
        # objects and links move back to it, so removing the new build takes none of them.
        replacement, self.state.replacement = self.state.replacement, None
        failure = None
        try:
            put_back = replacement is None or replacement.put_back()
        except Exception as error:  # the backup could not be read: say so, after the rest
            put_back, failure = False, error
        if put_back:
            # The failed stage rolled back its own data; the owner holds the earlier stages'.
            self.pipeline.owner.remove_all()
            if replacement is not None:
                replacement.settle()
            self.state.restore_scene_settings()
        else:
            # The previous build cannot come back (replaced without a backup, no output to
            # save, or its backup unreadable): the new, complete build stays rather than
            # leave the scene with neither.
            self.state.results["kept_new_build"] = True
        self.state.release()
        if self._open:
            self.pipeline.__exit__(None, None, None)
        self._open = False
        self._finished = True
        self.pipeline.report.results = {"rolled_back": True, **self.state.results}
        if failure is not None:
            raise failure
