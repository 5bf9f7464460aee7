"""The LeanRoute tab in the real Blender GUI, under Xvfb: build, Esc, rebuild, screenshot.

The `blender` binary runs tests/ui/ui_session.py, which drives the interface from
``bpy.app.timers`` (see its docstring) and writes its findings and two screenshots to
build/ui/, the folder CI keeps as an artifact:

    build/ui/leanroute-sidebar.png         after build, cancelled build and rebuild
    build/ui/leanroute-sidebar-before.png  the tab before any build
    build/ui/ui-session.json               every check, the sidebar's rectangle, timings

The tests here read that JSON and look at the pixels with a small PNG reader of our own.
Without xvfb-run the UI tests are skipped, or fail under $CI.
"""

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass

import numpy as np
import pytest
from helpers.blender_env import isolated_blender_env
from helpers.paths import REPO_ROOT, TESTS_DIR
from helpers.png_image import read_png

pytestmark = pytest.mark.blender_cli

SESSION = TESTS_DIR / "ui" / "ui_session.py"
ARTIFACTS = REPO_ROOT / "build" / "ui"
AFTER_PNG, BEFORE_PNG, RESULT_JSON = (
    "leanroute-sidebar.png",
    "leanroute-sidebar-before.png",
    "ui-session.json",
)
# Tall enough for the whole Route panel and the Memory panel's stage table in the sidebar
# (about 1250 px of panels). Every redraw is drawn by llvmpipe on the CPU: bigger is slower.
SCREEN = "1600x1800x24"
TIMEOUT = 300  # seconds for the whole Blender run; the session's own watchdog is shorter
WATCHDOG = 240
EXIT_SCRIPT_FAILED = 4  # --python-exit-code: the session script raised while loading

# Checks the session must have run and passed (besides "every recorded check passed"), so
# that a session cut short cannot pass by having checked less.
REQUIRED_CHECKS = (
    "splash disabled",
    "sidebar open",
    "LeanRoute tab active",
    "sample city with its demo route",
    "first build: build started",
    "first build: LeanRoute collection in the scene",
    "first build: 9 stages, all ok",
    "cancelled build: still running when Esc is pressed",
    "cancelled build: not running",
    "cancelled build: scene as before (data-block names by type)",
    "rebuild: 9 stages, all ok",
    "no new orphan data-blocks",
    "no live BMeshes",
    "stage table shows 9 rows",
    "screenshot before written",
    "screenshot after written",
)


@dataclass
class UiRun:
    """What one Blender GUI session did."""

    returncode: int
    output: str
    seconds: float
    result: "dict | None"

    def explain(self) -> str:
        """The failed checks, the errors and the end of Blender's output, for assertions."""
        lines = [f"blender exited {self.returncode} after {self.seconds:.1f} s"]
        if self.result is None:
            lines.append(f"no {ARTIFACTS / RESULT_JSON} was written")
        else:
            failed = [c for c in self.result["checks"] if not c["passed"]]
            lines += [f"FAILED {json.dumps(check)}" for check in failed]
            lines += [f"ERROR {error}" for error in self.result["errors"]]
        lines.append("--- end of blender's output ---")
        lines += self.output.splitlines()[-60:]
        return "\n".join(lines)


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _run_session(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    # Its own session (process group): on a timeout, xvfb-run, Xvfb and blender all go.
    process = subprocess.Popen(
        command,
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"blender's UI session took more than {TIMEOUT} s:\n{output[-5000:]}")
    return process.returncode, output


@pytest.fixture(scope="module")
def ui_run(blender_binary, tmp_path_factory) -> UiRun:
    """Run the UI session once for this module's tests; its files land in build/ui/."""
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        message = "xvfb-run not found: the UI test needs an X server (apt-get install xvfb)"
        if _ci():
            pytest.fail(message)
        pytest.skip(message)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in (AFTER_PNG, BEFORE_PNG, RESULT_JSON):
        (ARTIFACTS / name).unlink(missing_ok=True)  # never judge a previous run's files
    work = tmp_path_factory.mktemp("ui")
    (work / "tmp").mkdir()
    # Blender's temporary files (quit.blend, crash logs) go to the scratch folder too.
    env = {**isolated_blender_env(work / "user"), "TMPDIR": str(work / "tmp")}
    command = [
        xvfb_run, "-a", "-s", f"-screen 0 {SCREEN}",
        blender_binary, "--factory-startup", "--enable-event-simulate",
        "--python-exit-code", str(EXIT_SCRIPT_FAILED),
        "--python", str(SESSION), "--",
        "--out", str(ARTIFACTS), "--timeout", str(WATCHDOG),
    ]  # fmt: skip
    started = time.monotonic()
    returncode, output = _run_session(command, env)
    seconds = time.monotonic() - started
    result_path = ARTIFACTS / RESULT_JSON
    result = json.loads(result_path.read_text()) if result_path.is_file() else None
    return UiRun(returncode, output, seconds, result)


def _crop(image: np.ndarray, rectangle: dict) -> np.ndarray:
    # Blender's region rectangles count y from the window's bottom edge; PNG rows from the top.
    height = image.shape[0]
    top = height - (rectangle["y"] + rectangle["height"])
    return image[
        top : height - rectangle["y"], rectangle["x"] : rectangle["x"] + rectangle["width"]
    ]


def _colours(image: np.ndarray) -> int:
    rgb = image[..., :3].astype(np.uint32)
    return int(np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]).size)


# -- the session ----------------------------------------------------------------------------


def test_the_session_passes_every_check(ui_run):
    assert ui_run.result is not None, ui_run.explain()
    assert ui_run.returncode == 0 and ui_run.result["passed"], ui_run.explain()
    passed = {check["name"] for check in ui_run.result["checks"] if check["passed"]}
    missing = [name for name in REQUIRED_CHECKS if name not in passed]
    assert not missing, f"checks not run or failed: {missing}\n{ui_run.explain()}"


def test_the_session_reports_where_and_how_long(ui_run):
    result = ui_run.result
    assert result is not None, ui_run.explain()
    assert result["blender_version"].split(".")[0].isdigit()
    assert result["timings"]["total"] > 0
    window = result["window"]
    sidebar = result["sidebar"]
    assert sidebar["width"] > 100 and sidebar["height"] > 300, sidebar
    assert sidebar["x"] + sidebar["width"] <= window["width"], (sidebar, window)
    assert sidebar["y"] + sidebar["height"] <= window["height"], (sidebar, window)
    print(f"UI session: {ui_run.seconds:.1f} s in Blender {result['blender_version']}")
    print(json.dumps(result["timings"], indent=1))


# -- the screenshot -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def screenshots(ui_run):
    """(after, before) screenshots as pixel arrays."""
    if ui_run.result is None or not (ARTIFACTS / AFTER_PNG).is_file():
        pytest.fail(f"no screenshot was written\n{ui_run.explain()}")
    return read_png(ARTIFACTS / AFTER_PNG), read_png(ARTIFACTS / BEFORE_PNG)


def test_the_screenshot_is_the_window_and_not_blank(ui_run, screenshots):
    after, _ = screenshots
    window = ui_run.result["window"]
    assert after.shape[:2] == (window["height"], window["width"])
    assert _colours(after) > 500, "too few colours: a blank or unfinished frame"
    assert after[..., :3].std() > 10


def test_the_sidebar_is_drawn(ui_run, screenshots):
    after, _ = screenshots
    sidebar = _crop(after, ui_run.result["sidebar"])
    assert sidebar.shape[0] > 300 and sidebar.shape[1] > 100, sidebar.shape
    assert _colours(sidebar) > 50 and sidebar[..., :3].std() > 8, "the sidebar is uniform"


def test_the_stage_table_appeared_after_the_builds(ui_run, screenshots):
    after, before = screenshots
    now = _crop(after, ui_run.result["sidebar"])
    then = _crop(before, ui_run.result["sidebar_before"])
    assert now.shape == then.shape, "the sidebar changed size between the screenshots"
    difference = np.abs(now[..., :3].astype(np.int16) - then[..., :3].astype(np.int16)).max(-1)
    changed = float((difference > 24).mean())
    # Measured: about 0.15 (the table, Rebuild, Clear and the new figures).
    assert changed > 0.05, f"only {changed:.1%} of the sidebar changed: no stage table?"
