# SPDX-License-Identifier: GPL-3.0-or-later
"""A scene build driven from the UI one stage at a time, with progress and a status line.

The modal Build operator owns one :class:`BuildJob` for as long as it runs; tests and
headless runs drive the same object with :meth:`BuildJob.run`. Between two stages Blender
redraws and handles events, so the interface stays responsive and Esc can cancel.
"""

import time
from pathlib import Path

import bpy

from ..progress.build_summary import one_line
from ..progress.stage_progress import StageProgress
from ..properties.addon_preferences import get_preferences
from ..route.atomic_files import write_text_atomic
from ..route.build import SceneBuild
from ..route.output_paths import unused_name
from .build_inputs import build_options, settings_from_scene
from .stored_report import report_text


class BuildJob:
    """One build of ``context.scene`` from its Route panel settings.

    Constructing it reads and checks every input, so a bad input is refused before the
    scene is touched (SettingsError, InputFileError...).
    """

    def __init__(self, context):
        self.scene = context.scene
        self.window = context.window
        self.window_manager = context.window_manager
        self.settings = settings_from_scene(self.scene)
        self.build = SceneBuild(self.settings, scene=self.scene, **build_options(context))
        self.message = ""
        self.warning = ""
        self._started = 0.0

    @property
    def status(self):
        """The window manager's build status (what the panel shows)."""
        return self.window_manager.leanroute_job

    @property
    def done(self) -> bool:
        """True once every stage ran, or the build failed or was cancelled."""
        return self.build.done

    def start(self) -> None:
        """Open the build; the scene is untouched until the first :meth:`tick`."""
        self._started = time.perf_counter()
        self.build.start()
        status = self.status
        status.running, status.cancel_requested = True, False
        status.fraction, status.report_json = 0.0, ""
        self._show(StageProgress(self._job_name(), self.build.next_stage, 0, self._total()))
        if self.window is not None:
            self.window_manager.progress_begin(0, self._total())

    def tick(self) -> bool:
        """Run the next stage; True when the build is done. A failure rolls back and raises."""
        try:
            self.build.step()
        except BaseException:
            # Kept, so the table shows which stage failed and what memory did up to there.
            self.scene.leanroute.last_report = report_text(self.build.pipeline.report)
            self._end()
            raise
        status = self.status
        status.fraction = self.build.fraction
        text = report_text(self.build.pipeline.report)
        if self.build.done:
            self._finish(text)
            return True
        status.report_json = text
        index = round(self.build.fraction * self._total())
        self._show(StageProgress(self._job_name(), self.build.next_stage, index, self._total()))
        if self.window is not None:
            self.window_manager.progress_update(index)
        return False

    def cancel(self) -> None:
        """Stop before the next stage and roll the scene back to how it was."""
        # The last report stays the previous build's: that build is what the scene holds.
        self.build.cancel()
        self.message = "LeanRoute build cancelled: the scene is as it was before"
        self._end()

    def run(self) -> None:
        """Run every stage now (background mode, scripts, tests)."""
        self.start()
        while not self.tick():
            pass

    # -- internals ---------------------------------------------------------------------

    def _job_name(self) -> str:
        return f"build {self.settings.osm.name}"

    def _total(self) -> int:
        return len(self.build.stage_names)

    def _show(self, progress: StageProgress) -> None:
        self.status.stage = progress.stage
        if self.window is not None:
            self.window.workspace.status_text_set(progress.status_line())
        _redraw(self.window_manager)

    def _finish(self, text: str) -> None:
        result = self.build.result()
        self.scene.leanroute.last_report = text
        seconds = time.perf_counter() - self._started
        self.message = one_line(result.results, seconds)
        self._end()
        prefs = get_preferences()
        if prefs.write_report_after_build and prefs.report_folder.strip():
            # A name of LeanRoute's own: it never writes through or over what holds one.
            folder = Path(bpy.path.abspath(prefs.report_folder))
            path = unused_name(folder, f"leanroute-{time.strftime('%Y%m%d-%H%M%S')}", ".json")
            try:
                write_text_atomic(path, result.report.to_json(indent=1))
                self.message += f"; report written to {path}"
            except OSError as error:
                self.warning = f"the build is done, but its report was not written: {error}"

    def _end(self) -> None:
        status = self.status
        status.running, status.cancel_requested = False, False
        status.stage, status.report_json = "", ""
        if self.window is not None:
            self.window.workspace.status_text_set(None)
            self.window_manager.progress_end()
        _redraw(self.window_manager)


def _redraw(window_manager) -> None:
    # The sidebars and the status bar only repaint when asked to; the viewports repaint
    # by themselves when the build changes objects (tagging them too costs a redraw each).
    for window in window_manager.windows:
        for area in window.screen.areas:
            if area.type == "STATUSBAR":
                area.tag_redraw()
            elif area.type == "VIEW_3D":
                for region in area.regions:
                    if region.type == "UI":
                        region.tag_redraw()
