# SPDX-License-Identifier: GPL-3.0-or-later
"""Build / Rebuild and Cancel: the route scene built one stage per timer tick."""

import bpy

from ..route.errors import describe
from .build_job import BuildJob
from .poll import can_build

# Events a running build lets through: view navigation, and anything over a sidebar (the
# panels and their Cancel button). Everything else that could change data under the build
# (undo, delete, file operations) waits until it is done.
_NAVIGATION = {
    "MOUSEMOVE",
    "INBETWEEN_MOUSEMOVE",
    "MIDDLEMOUSE",
    "WHEELUPMOUSE",
    "WHEELDOWNMOUSE",
    "TRACKPADPAN",
    "TRACKPADZOOM",
    "MOUSEROTATE",
    "MOUSESMARTZOOM",
    "NDOF_MOTION",
    "WINDOW_DEACTIVATE",
    "TIMER",
    "TIMER_REPORT",
    "TIMERREGION",
}


class LEANROUTE_OT_build(bpy.types.Operator):
    """Build the route scene"""

    bl_description = (
        "Build the route scene: roads, buildings, ground, route, car and chase camera. "
        "Runs stage by stage with progress in the status bar; Esc cancels and puts the "
        "scene back. A previous build is replaced only once the new one is complete"
    )

    bl_idname = "leanroute.build"
    bl_label = "Build Route Scene"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return can_build(cls, context)

    def invoke(self, context, event):
        if context.window is None or bpy.app.background:
            return self.execute(context)
        try:
            self._job = BuildJob(context)
            self._job.start()
        except Exception as error:
            return self._failed(error)
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.01, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):  # noqa: PLR0911 - one return per kind of event
        job = self._job
        if event.type == "ESC" or context.window_manager.leanroute_job.cancel_requested:
            self._stop_timer(context)
            job.cancel()
            self.report({"WARNING"}, job.message)
            return {"CANCELLED"}
        if event.type == "TIMER" and event.value != "RELEASE":
            try:
                done = job.tick()
            except Exception as error:
                self._stop_timer(context)
                return self._failed(error)
            if done:
                self._stop_timer(context)
                return self._finished(job)
            return {"RUNNING_MODAL"}
        if event.ctrl or event.oskey:
            return {"RUNNING_MODAL"}  # shortcuts: undo, save, open... wait for the build
        if event.type in _NAVIGATION or _over_sidebar(context, event):
            return {"PASS_THROUGH"}  # orbit the view, read the panels, press Cancel
        return {"RUNNING_MODAL"}

    def cancel(self, context):
        # Blender ends modal operators itself on file load or window close.
        self._stop_timer(context)
        job = getattr(self, "_job", None)
        if job is not None and not job.done:
            job.cancel()

    def execute(self, context):
        try:
            job = BuildJob(context)
            job.run()
        except Exception as error:
            return self._failed(error)
        return self._finished(job)

    # -- internals ---------------------------------------------------------------------

    def _finished(self, job: BuildJob):
        self.report({"INFO"}, job.message)
        if job.warning:
            self.report({"WARNING"}, job.warning)
        return {"FINISHED"}

    def _failed(self, error: Exception):
        self.report({"ERROR"}, describe(error))
        return {"CANCELLED"}

    def _stop_timer(self, context):
        timer = getattr(self, "_timer", None)
        if timer is not None:
            context.window_manager.event_timer_remove(timer)
            self._timer = None


class LEANROUTE_OT_cancel_build(bpy.types.Operator):
    """Stop the running build before its next stage and put the scene back as it was"""

    bl_idname = "leanroute.cancel_build"
    bl_label = "Cancel Build"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        if not context.window_manager.leanroute_job.running:
            cls.poll_message_set("No LeanRoute build is running")
            return False
        return True

    def execute(self, context):
        context.window_manager.leanroute_job.cancel_requested = True
        return {"FINISHED"}


def _over_sidebar(context, event) -> bool:
    x, y = event.mouse_x, event.mouse_y
    for area in context.window.screen.areas:
        for region in area.regions:
            if region.type == "UI" and (
                region.x <= x < region.x + region.width and region.y <= y < region.y + region.height
            ):
                return True
    return False
