# SPDX-License-Identifier: GPL-3.0-or-later
"""The UI test's session inside Blender's GUI: the LeanRoute tab, a build, Esc, a rebuild.

    xvfb-run -a -s "-screen 0 1600x1800x24" blender --factory-startup --enable-event-simulate \
        --python-exit-code 4 --python tests/ui/ui_session.py -- --out build/ui

Run by tests/test_ui_sidebar.py. Everything happens in ``bpy.app.timers`` steps, so
Blender's event loop keeps running (redraws, the modal Build operator's timer, simulated
events) between them. Writes into ``--out``:

    leanroute-sidebar-before.png  the window with the LeanRoute tab open, before any build
    leanroute-sidebar.png         the window after build, cancelled build and rebuild
    ui-session.json               every check, the sidebar's rectangle, timings, errors

Exit code: 0 every check passed, 1 a check failed, 2 an unexpected error, 3 the watchdog
fired, 4 this script failed to load (``--python-exit-code``).
"""

import argparse
import faulthandler
import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path

import addon_utils
import bpy

ADDON = "leanroute"
CATEGORY = "LeanRoute"
ROUTE_PANEL = "LEANROUTE_PT_route"
STAGES_PANEL = "LEANROUTE_PT_memory_stages"
STAGE_COUNT = 9
BEFORE_PNG = "leanroute-sidebar-before.png"
AFTER_PNG = "leanroute-sidebar.png"
RESULT_JSON = "ui-session.json"
EXIT_PASSED, EXIT_FAILED, EXIT_ERROR, EXIT_WATCHDOG = 0, 1, 2, 3
# Ctrl+wheel over the sidebar moves one tab: down the list first, then back up.
TAB_TRIES_DOWN, TAB_TRIES_UP = 8, 16
# Wheel events that may be needed to scroll the sidebar to its end.
SCROLL_TRIES = 60
# Seconds a build of the sample city may take in the GUI (llvmpipe redraws included).
BUILD_TIMEOUT = 90.0
# After quit_blender() Blender exits within a second; if not, leave anyway.
QUIT_GRACE = 20.0


class RequiredCheckError(Exception):
    """A required check failed: the session cannot go on."""


def _arguments() -> argparse.Namespace:
    argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    parser = argparse.ArgumentParser(prog="ui_session.py")
    parser.add_argument("--out", required=True, type=Path, help="folder for PNGs and JSON")
    parser.add_argument("--timeout", type=float, default=240.0, help="watchdog, seconds")
    return parser.parse_args(argv)


class Session:
    """The steps of the UI session, their checks, and the JSON written at the end."""

    def __init__(self, out: Path, timeout: float):
        self.out = out
        self.started = time.monotonic()
        self.result = {
            "passed": False,
            "blender_version": bpy.app.version_string,
            # Of every rectangle below (Blender's region.x/y/width/height).
            "coordinates": "window pixels, y counted up from the window's bottom edge",
            "checks": [],
            "errors": [],
            "timings": {},
            "screenshots": {},
        }
        self._lock = threading.Lock()
        self._finished = False
        self._phase_started = self.started
        self._steps = self.scenario()
        self._watchdog = threading.Timer(timeout, self._watchdog_fired, args=(timeout,))
        self._watchdog.daemon = True

    # -- bookkeeping -------------------------------------------------------------------

    def check(self, name: str, ok: bool, **detail) -> bool:
        """Record one check (and print it, for the test's log)."""
        self.result["checks"].append({"name": name, "passed": bool(ok), **detail})
        print(f"ui-session: {'PASS' if ok else 'FAIL'} {name} {detail or ''}", flush=True)
        return bool(ok)

    def require(self, name: str, ok: bool, **detail) -> None:
        """Record a check the rest of the session depends on; stop the session if it failed."""
        if not self.check(name, ok, **detail):
            raise RequiredCheckError(name)

    def phase_done(self, name: str) -> None:
        """Record how long the phase that ends now took."""
        now = time.monotonic()
        self.result["timings"][name] = round(now - self._phase_started, 3)
        self._phase_started = now

    def start(self) -> None:
        """Start the watchdog and the first step."""
        self._watchdog.start()
        bpy.app.timers.register(self._drive, first_interval=0.1, persistent=True)

    def _drive(self):
        # One timer call = one step of the scenario; the step says how long to wait.
        try:
            delay = next(self._steps)
        except StopIteration:
            self.finish(EXIT_PASSED)
            return None
        except RequiredCheckError:
            self.finish(EXIT_FAILED)
            return None
        except Exception:
            self.result["errors"].append(traceback.format_exc())
            traceback.print_exc()
            self.finish(EXIT_ERROR)
            return None
        return max(0.0, float(delay))

    def _write_result(self, code: int) -> None:
        self.result["exit_code"] = code
        self.result["passed"] = (
            code == EXIT_PASSED
            and not self.result["errors"]
            and all(check["passed"] for check in self.result["checks"])
        )
        self.result["timings"]["total"] = round(time.monotonic() - self.started, 3)
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / RESULT_JSON
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(self.result, indent=1, default=str))
        temporary.replace(path)

    def finish(self, code: int) -> None:
        """Write the JSON; quit Blender with 0 if everything passed, else exit at once."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self._watchdog.cancel()
            self._write_result(code)
        passed = self.result["passed"]
        print(f"ui-session: {'passed' if passed else 'FAILED'}, see {self.out}", flush=True)
        if not passed:
            _hard_exit(code or EXIT_FAILED)
        # Quitting normally lets Blender shut down cleanly; a thread makes sure it happens.
        _exit_after(QUIT_GRACE, EXIT_PASSED)
        bpy.ops.wm.quit_blender()

    def _watchdog_fired(self, timeout: float) -> None:
        # A thread: it runs even if the main loop is stuck. Plain data only, no bpy.
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self.result["errors"].append(f"watchdog: the session took more than {timeout} s")
            try:
                self._write_result(EXIT_WATCHDOG)
            except Exception:  # the main thread may be changing the result as we write it
                traceback.print_exc()
        print(f"ui-session: watchdog fired after {timeout} s", file=sys.stderr, flush=True)
        _hard_exit(EXIT_WATCHDOG)

    # -- the window ----------------------------------------------------------------------

    @property
    def window(self):
        """Blender's main window."""
        return bpy.context.window_manager.windows[0]

    @property
    def view3d(self):
        """The 3D View area of the main window."""
        return next(area for area in self.window.screen.areas if area.type == "VIEW_3D")

    def region(self, kind: str):
        """The 3D View's region of *kind* (WINDOW, UI...)."""
        return next(region for region in self.view3d.regions if region.type == kind)

    def override(self, region_kind: "str | None" = None):
        """A context override for the main window and its 3D View (and one of its regions)."""
        extra = {"region": self.region(region_kind)} if region_kind else {}
        return bpy.context.temp_override(window=self.window, area=self.view3d, **extra)

    def redraw_window(self) -> None:
        """Draw the whole window and swap it to the screen now (screenshots read the screen)."""
        with self.override():
            bpy.ops.wm.redraw_timer(type="DRAW_WIN_SWAP", iterations=1)

    def redraw_sidebar(self) -> None:
        """Lay out and draw the sidebar now: its panels' draw() run if their tab is active.

        DRAW_SWAP goes through Blender's normal window drawing. Plain DRAW draws the region
        outside it: on Blender 3.4 it skipped the panels' draw() and then segfaulted.
        """
        with self.override("UI"):
            bpy.ops.wm.redraw_timer(type="DRAW_SWAP", iterations=1)

    def screenshot(self, name: str, key: str) -> None:
        """Save the window as it is on screen to ``out/name``."""
        path = self.out / name
        path.unlink(missing_ok=True)
        self.redraw_window()
        with self.override():
            bpy.ops.screen.screenshot(filepath=str(path))
        self.result["screenshots"][key] = str(path)
        self.check(f"screenshot {key} written", path.is_file(), path=str(path))

    def simulate(self, kind: str, value: str, x: int, y: int, **modifiers) -> None:
        """Queue one simulated event (Blender runs with --enable-event-simulate)."""
        self.window.event_simulate(type=kind, value=value, x=x, y=y, **modifiers)

    def rectangle(self, region) -> dict:
        """*region*'s rectangle in window pixels; y counts from the window's bottom edge."""
        return {"x": region.x, "y": region.y, "width": region.width, "height": region.height}

    # -- waiting -------------------------------------------------------------------------

    def wait_until(self, what: str, predicate, timeout: float, poll: float = 0.05):
        """Yield poll intervals until *predicate* holds; a failed check after *timeout*."""
        start = time.monotonic()
        while not predicate():
            if time.monotonic() - start > timeout:
                self.require(f"{what} within {timeout:.0f} s", False)
            yield poll
        return time.monotonic() - start

    # -- the scenario ----------------------------------------------------------------------

    def scenario(self):
        """Every step in order; each ``yield`` hands control back to Blender for that long."""
        yield from self.wait_until("a window with a 3D View", _has_view3d, 30.0, poll=0.1)
        self.dismiss_splash()
        yield 0.1
        yield from self.open_sidebar()
        yield from self.activate_tab()
        self.phase_done("sidebar")

        self.prepare_inputs()
        yield from self.scroll_sidebar_to_bottom()
        self.screenshot(BEFORE_PNG, "before")
        self.result["sidebar_before"] = self.rectangle(self.region("UI"))
        self.phase_done("before_screenshot")

        from leanroute.memory import blender_stats

        orphans_before = blender_stats.orphan_counts()
        yield from self.build("first build")
        self.phase_done("first_build")
        yield from self.cancelled_build()
        self.phase_done("cancelled_build")
        yield from self.build("rebuild")
        self.phase_done("rebuild")
        self.check_memory(orphans_before)

        yield from self.scroll_sidebar_to_bottom()
        self.redraw_window()
        from leanroute.panels import visibility

        rows = visibility.facts(STAGES_PANEL).get("stage_rows")
        self.check("stage table shows 9 rows", rows == STAGE_COUNT, stage_rows=rows)
        self.screenshot(AFTER_PNG, "after")
        self.result["sidebar"] = self.rectangle(self.region("UI"))
        self.result["view3d"] = self.rectangle(self.region("WINDOW"))
        self.result["window"] = {"width": self.window.width, "height": self.window.height}
        self.phase_done("after_screenshot")

    def dismiss_splash(self) -> None:
        """The splash was switched off before it opened (see the bottom); Esc for safety.

        If a splash (or any popup) were open anyway, Esc over the 3D View closes it; without
        one, Esc in Object Mode does nothing.
        """
        x, y = _centre(self.region("WINDOW"))
        self.simulate("MOUSEMOVE", "NOTHING", x, y)
        self.simulate("ESC", "PRESS", x, y)
        self.simulate("ESC", "RELEASE", x, y)
        self.check("splash disabled", not bpy.context.preferences.view.show_splash)

    def open_sidebar(self):
        """Show the 3D View's sidebar and wait until it has its width."""
        self.view3d.spaces.active.show_region_ui = True
        self.view3d.tag_redraw()
        yield from self.wait_until(
            "the sidebar to open", lambda: self.region("UI").width > 1, 10.0, poll=0.05
        )
        self.result["window"] = {"width": self.window.width, "height": self.window.height}
        self.result["sidebar"] = self.rectangle(self.region("UI"))
        self.check("sidebar open", True, rectangle=self.result["sidebar"])

    def activate_tab(self):
        """Make LeanRoute the sidebar's active tab; proven by the Route panel being drawn."""
        from leanroute.panels import visibility

        def drawn_since(moment: float) -> bool:
            when = visibility.last_drawn(ROUTE_PANEL)
            return when is not None and when >= moment

        region = self.region("UI")
        if hasattr(region, "active_panel_category"):  # Blender 4.1+
            try:
                region.active_panel_category = CATEGORY
            except (TypeError, ValueError) as error:
                print(f"ui-session: active_panel_category: {error}", flush=True)
            moment = time.monotonic()
            self.redraw_sidebar()
            if drawn_since(moment):
                self.result["tab_switch"] = {"method": "active_panel_category", "tries": 0}
                self.check("LeanRoute tab active", True, method="active_panel_category")
                return
        # Blender 3.4 - 4.0: no API for the active tab. A wheel event over the tab strip
        # (at the sidebar's right edge; its lower end is empty) moves one tab, and does not
        # wrap around at either end. Ctrl makes it work over the panels too, but a button
        # under the mouse would take Ctrl+wheel for itself: hence the strip's empty end.
        directions = ["WHEELDOWNMOUSE"] * TAB_TRIES_DOWN + ["WHEELUPMOUSE"] * TAB_TRIES_UP
        scale = bpy.context.preferences.system.ui_scale
        for tries, direction in enumerate([*directions, None]):
            region = self.region("UI")
            moment = time.monotonic()
            self.redraw_sidebar()
            if drawn_since(moment):
                self.result["tab_switch"] = {"method": "ctrl+wheel", "tries": tries}
                self.check("LeanRoute tab active", True, method="ctrl+wheel", tries=tries)
                return
            if direction is None:
                break
            x = region.x + region.width - max(2, round(6 * scale))
            y = region.y + max(4, round(24 * scale))
            self.simulate("MOUSEMOVE", "NOTHING", x, y)
            self.simulate(direction, "PRESS", x, y, ctrl=True)
            yield 0.05  # Blender handles the events, then the next step looks again
        self.require(
            "LeanRoute tab active",
            False,
            error=f"{ROUTE_PANEL} was not drawn after {len(directions)} Ctrl+wheel events "
            "over the sidebar's tabs",
        )

    def scroll_sidebar_to_bottom(self):
        """Scroll the sidebar down to its end, so the stage table is on screen.

        In a 1600x1800 window the Route and Memory panels fit in the sidebar, but they may
        grow, and the table is what the screenshot is for. Plain wheel events over the
        panels scroll the region; the end is reached when one more event leaves the view
        where it was. Then the mouse goes back to the 3D View, so that no tooltip opens
        over the sidebar.
        """
        region = self.region("UI")
        # Left of the tab strip, over which a wheel would switch tabs instead.
        x, y = region.x + region.width // 3, region.y + region.height // 2
        previous, events, at_end = None, 0, False
        while events < SCROLL_TRIES:
            bottom = region.view2d.region_to_view(0, 0)[1]
            at_end = previous is not None and abs(bottom - previous) < 1
            if at_end:
                break
            previous = bottom
            self.simulate("MOUSEMOVE", "NOTHING", x, y)
            self.simulate("WHEELDOWNMOUSE", "PRESS", x, y)
            events += 1
            yield 0.05
        self.check("sidebar scrolled to its end", at_end, wheel_events=events)
        self.simulate("MOUSEMOVE", "NOTHING", *_centre(self.region("WINDOW")))
        yield 0.05

    def prepare_inputs(self) -> None:
        """Tick Use Sample City (which fills in its demo route)."""
        inputs = bpy.context.scene.leanroute
        inputs.use_sample_city = True
        self.check(
            "sample city with its demo route",
            inputs.use_sample_city and len(inputs.waypoints) >= 2,
            waypoints=len(inputs.waypoints),
        )

    def invoke_build(self, label: str) -> None:
        """Start the modal Build as a click in the 3D View would."""
        with self.override("WINDOW"):
            outcome = bpy.ops.leanroute.build("INVOKE_DEFAULT")
        self.require(f"{label}: build started", "RUNNING_MODAL" in outcome, outcome=outcome)

    def build(self, label: str):
        """Build through the modal operator, wait for it, check it succeeded."""
        job = bpy.context.window_manager.leanroute_job
        self.invoke_build(label)
        seconds = yield from self.wait_until(
            f"{label} to finish", lambda: not job.running, BUILD_TIMEOUT, poll=0.1
        )
        self.result["timings"][f"{label} (operator)"] = round(seconds, 3)
        scene = bpy.context.scene
        from leanroute.route.build_collection import all_builds

        builds = [collection.name for collection in all_builds(scene)]
        self.check(
            f"{label}: LeanRoute collection in the scene",
            any(name == CATEGORY or name.startswith(CATEGORY + ".") for name in builds),
            collections=builds,
        )
        statuses = _stage_statuses(scene.leanroute.last_report)
        self.result["timings"][f"{label} (stages)"] = _stage_seconds(scene.leanroute.last_report)
        self.require(
            f"{label}: 9 stages, all ok",
            statuses is not None
            and len(statuses) == STAGE_COUNT
            and all(status == "ok" for status in statuses.values()),
            stages=statuses,
        )

    def cancelled_build(self):
        """Start a build, press Esc once a stage has run: the scene must be as before."""
        job = bpy.context.window_manager.leanroute_job
        before = _fingerprint()
        self.invoke_build("cancelled build")
        yield from self.wait_until(
            "the build's first stage", lambda: job.fraction > 0 or not job.running, 30.0, 0.0
        )
        fraction = job.fraction
        self.require(
            "cancelled build: still running when Esc is pressed",
            job.running,
            fraction=fraction,
            error=None if job.running else "the build finished before Esc could be sent",
        )
        x, y = _centre(self.region("WINDOW"))
        self.simulate("MOUSEMOVE", "NOTHING", x, y)
        self.simulate("ESC", "PRESS", x, y)
        self.simulate("ESC", "RELEASE", x, y)
        yield from self.wait_until("the build to stop after Esc", lambda: not job.running, 30.0)
        after = _fingerprint()
        changed = {
            kind: {
                "added": sorted(set(after.get(kind, ())) - set(before.get(kind, ()))),
                "removed": sorted(set(before.get(kind, ())) - set(after.get(kind, ()))),
            }
            for kind in set(before) | set(after)
            if before.get(kind) != after.get(kind)
        }
        self.check("cancelled build: not running", not job.running)
        self.check(
            "cancelled build: scene as before (data-block names by type)",
            before == after,
            esc_at_fraction=round(fraction, 3),
            changed=changed,
        )
        self.result["cancelled_report"] = _stage_statuses(bpy.context.scene.leanroute.last_report)

    def check_memory(self, orphans_before: dict) -> None:
        """No orphans beyond those before the first build, no live BMeshes."""
        from leanroute.memory import blender_stats, bmesh_ledger

        orphans = blender_stats.orphan_counts()
        self.check(
            "no new orphan data-blocks",
            orphans == orphans_before,
            before=orphans_before,
            after=orphans,
        )
        live = bmesh_ledger.live_bmeshes()
        self.check("no live BMeshes", live == 0, live_bmeshes=live)


def _has_view3d() -> bool:
    windows = bpy.context.window_manager.windows
    return bool(windows) and any(area.type == "VIEW_3D" for area in windows[0].screen.areas)


def _centre(region) -> tuple[int, int]:
    return region.x + region.width // 2, region.y + region.height // 2


def _fingerprint() -> dict:
    from leanroute.memory.blender_stats import id_collections

    return {
        kind: sorted(block.name for block in getattr(bpy.data, kind)) for kind in id_collections()
    }


def _stage_statuses(text: str) -> "dict | None":
    try:
        report = json.loads(text)
    except ValueError:
        return None
    return {stage["name"]: stage["status"] for stage in report.get("stages", ())}


def _stage_seconds(text: str) -> dict:
    try:
        report = json.loads(text)
    except ValueError:
        return {}
    return {stage["name"]: round(stage["wall_seconds"], 3) for stage in report.get("stages", ())}


def _hard_exit(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _exit_after(seconds: float, code: int) -> None:
    timer = threading.Timer(seconds, _hard_exit, args=(code,))
    timer.daemon = True
    timer.start()


def main() -> None:
    """Set Blender up for an unattended session, enable LeanRoute, start the steps."""
    args = _arguments()
    faulthandler.enable()  # a crash inside Blender still shows the Python steps leading to it
    preferences = bpy.context.preferences
    # Read by Blender right after the --python scripts ran: the splash never opens.
    preferences.view.show_splash = False
    if hasattr(preferences.view, "use_save_prompt"):
        preferences.view.use_save_prompt = False  # quitting with a built scene must not ask
    preferences.filepaths.use_auto_save_temporary_files = False
    # Under Xvfb the viewport is drawn by llvmpipe on the CPU: anti-aliasing doubles the
    # time of every redraw (one per build stage) and the sidebar does not need it.
    preferences.system.viewport_aa = "OFF"
    session = Session(args.out.resolve(), args.timeout)
    module = addon_utils.enable(ADDON, default_set=True)
    if module is None:
        session.result["errors"].append(f"addon_utils.enable({ADDON!r}) failed: see stderr")
        session.finish(EXIT_ERROR)
    session.start()


main()
