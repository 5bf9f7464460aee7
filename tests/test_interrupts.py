"""Ctrl+C and SIGTERM at any moment of ``build`` and ``demo``: rolled back, one line, 130/143.

Real processes and real signals: ``python -m leanroute`` stopped at named moments (the
process signals itself there, route/kill_points.py), by the test at delays after it has
started, and by a storm of Ctrl+C; then the exit code, the one line on stderr, and the
output folder (a previous run's files byte-identical, nothing new, no temporaries). The
signal machinery itself (route/interrupts.py) is tested in this process.
"""

import json
import os
import signal
import subprocess
import sys
import threading

import bpy
import pytest
from helpers.interrupt_runs import (
    EXIT_CODE,
    HOW,
    assert_interrupted,
    leftovers,
    old_outputs,
    run,
    run_and_signal,
    signal_env,
    snapshot,
)

from leanroute.cli.commands import main
from leanroute.memory.units import parse_size
from leanroute.route import interrupts, kill_points
from leanroute.route.build import STAGES
from leanroute.route.interrupts import (
    Interrupted,
    deferred,
    interruptible,
    raise_if_interrupted,
    received,
    signals_blocked,
    signals_handled,
)
from leanroute.route.sample_city import write_sample_city

SIGINT, SIGTERM = signal.SIGINT, signal.SIGTERM
PROG = "leanroute"


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A small generated city (20 buildings: each build takes a second or two)."""
    return write_sample_city(tmp_path_factory.mktemp("city") / "city.osm", buildings=20)


def build_command(city, folder) -> list[str]:
    route = ";".join(f"{lat:.7f},{lon:.7f}" for lat, lon in city.waypoints)
    return [
        sys.executable, "-m", "leanroute", "build", "--osm", str(city.path), "--route", route,
        "--out", str(folder / "city.blend"), "--report", str(folder / "city.json"), "--quiet",
    ]  # fmt: skip


# -- at named moments: the process signals itself there --------------------------------

SIGNALS = (SIGINT, SIGTERM, signal.SIGHUP)  # Ctrl+C, a farm's kill, a closed terminal
MOMENTS = [
    ("arguments", SIGINT),  # parsing the command line
    ("blender-start", SIGINT),  # importing bpy: Blender's own start-up (it crashed there)
    ("blender-start", SIGTERM),
    # As each stage starts (the signal lands in its body):
    *((f"stage:{name}", SIGNALS[index % 3]) for index, name in enumerate(STAGES)),
    ("stage-end:animation", SIGINT),
    ("stage-end:save", SIGTERM),  # the .blend saved under its temporary name
    ("temp-started:city.json", SIGINT),  # the report being written, the .blend waiting
]


@pytest.mark.parametrize(("point", "signum"), MOMENTS, ids=[f"{p}-{s.name}" for p, s in MOMENTS])
def test_build_stopped_at_a_named_moment_writes_nothing(city, tmp_path, point, signum):
    folder = tmp_path / "out"
    before = old_outputs(folder)
    done = run(build_command(city, folder), env=signal_env(point, signum))
    assert_interrupted(done, signum, PROG, folder, before)


# The renames of the complete files are the build's last step and are not cut: a signal
# during them lands just after; the build has succeeded and the line says so.
COMMIT = [("temp-written:city.json", SIGTERM), ("renamed:city.blend", SIGINT)]


@pytest.mark.parametrize(("point", "signum"), COMMIT, ids=[f"{p}-{s.name}" for p, s in COMMIT])
def test_a_signal_while_the_outputs_are_renamed_finds_them_complete(city, tmp_path, point, signum):
    folder = tmp_path / "out"
    old_outputs(folder)
    done = run(build_command(city, folder), env=signal_env(point, signum))
    assert done.returncode == EXIT_CODE[signum], done
    assert done.stderr.strip().splitlines() == [
        f"{PROG}: interrupted by {HOW[signum]} after the build was saved; its files are "
        f"complete: {folder / 'city.blend'}, {folder / 'city.json'}"
    ], done
    assert (folder / "city.blend").read_bytes()[:7] == b"BLENDER"
    assert (folder / "city.blend").stat().st_size > 100_000
    assert json.loads((folder / "city.json").read_text())["results"]["out"]
    assert leftovers(folder) == [], done


# -- at moments the test picks: wherever the process then is ---------------------------

DELAYS = [(0.0, SIGINT), (0.15, SIGTERM), (0.4, SIGINT), (0.8, SIGINT), (1.2, SIGTERM)]


@pytest.mark.parametrize(("delay", "signum"), DELAYS, ids=[f"{d}s-{s.name}" for d, s in DELAYS])
def test_build_signalled_at_any_moment_is_rolled_back_or_complete(city, tmp_path, delay, signum):
    folder = tmp_path / "out"
    before = old_outputs(folder)
    done = run_and_signal(build_command(city, folder), signum, delay=delay)
    assert done.returncode >= 0, done  # no crash, no death by the signal
    assert "Traceback" not in done.stdout + done.stderr, done
    assert leftovers(folder) == [], done
    if done.returncode == 0 or "after the build was saved" in done.stderr:
        # Late: the build had finished; every output is the new, complete one.
        assert done.returncode in (0, EXIT_CODE[signum]), done
        assert (folder / "city.blend").read_bytes()[:7] == b"BLENDER"
        assert json.loads((folder / "city.json").read_text())["results"]["out"]
    else:
        assert_interrupted(done, signum, PROG, folder, before)


def test_ctrl_c_pressed_over_and_over_still_rolls_back_once(city, tmp_path):
    folder = tmp_path / "out"
    before = old_outputs(folder)
    # From its start to its end, every 5 ms: also during Blender's start-up and the rollback.
    done = run_and_signal(build_command(city, folder), SIGINT, repeat_every=0.005)
    assert_interrupted(done, SIGINT, PROG, folder, before)


# -- demo: its sample city and its folder too -------------------------------------------


def demo_command(folder) -> list[str]:
    return [sys.executable, "-m", "leanroute", "demo", "--out-dir", str(folder), "--quiet"]


def test_demo_stopped_puts_back_the_previous_sample_city(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    for name in ("sample.osm", "demo.blend", "demo-report.json"):
        (folder / name).write_bytes(f"previous {name}\n".encode())
    before = snapshot(folder)
    done = run(demo_command(folder), env=signal_env("stage:roads", SIGINT))
    assert_interrupted(done, SIGINT, PROG, folder, before)


def test_demo_clears_the_temporaries_a_killed_demo_left(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "sample.osm").write_bytes(b"previous sample city\n")
    before = snapshot(folder)
    dead = _dead_pid()
    stale = [f".demo.tmp-{dead}.blend", f".demo.tmp-{dead}.blend@", f".sample.tmp-{dead}.osm"]
    for name in stale:
        (folder / name).write_bytes(b"left by a kill -9")
    done = run(demo_command(folder), env=signal_env("stage:parse", SIGINT))
    assert_interrupted(done, SIGINT, PROG, folder, before)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("point", ["temp-started:demo-report.json", "stage:parse"])
def test_demo_stopped_leaves_no_folder_it_made(tmp_path, point):
    folder = tmp_path / "new" / "demo"
    done = run(demo_command(folder), env=signal_env(point, SIGTERM))
    assert_interrupted(done, SIGTERM, PROG, tmp_path, {})
    assert not (tmp_path / "new").exists()


# -- in this process: the scene is as it was ------------------------------------------


def scene_state() -> dict:
    scene = bpy.context.scene
    return {
        "objects": sorted(bpy.data.objects.keys()),
        "meshes": sorted(bpy.data.meshes.keys()),
        "collections": sorted(bpy.data.collections.keys()),
        "frames": (scene.frame_start, scene.frame_end, scene.render.fps),
        "camera": scene.camera.name if scene.camera else None,
    }


@pytest.mark.parametrize("point", ["stage:roads", "stage:animation", "temp-started:city.json"])
def test_an_interrupted_rebuild_in_process_leaves_the_scene_and_files(
    city, tmp_path, factory_scene, monkeypatch, capsys, point
):
    folder = tmp_path / "out"
    arguments = build_command(city, folder)[3:]
    folder.mkdir()
    assert main(arguments) == 0
    files, scene = snapshot(folder), scene_state()
    monkeypatch.setattr(kill_points, "_reached", {})
    monkeypatch.setenv("LEANROUTE_TEST_KILL", point)
    monkeypatch.setenv("LEANROUTE_TEST_SIGNAL", "SIGINT")
    capsys.readouterr()
    assert main(arguments) == 130
    assert capsys.readouterr().err.splitlines() == [
        f"{PROG}: interrupted by Ctrl+C (SIGINT); the build was rolled back and nothing was written"
    ]
    assert scene_state() == scene
    assert snapshot(folder) == files
    assert leftovers(folder) == []
    # main() put Python's own Ctrl+C handling back.
    assert signal.getsignal(SIGINT) is signal.default_int_handler


# -- the machinery, in this process ---------------------------------------------------


def spin_in_own_code(limit: int = 2_000_000) -> int:
    """Call LeanRoute code in a loop (where a pending signal may land); returns the calls."""
    for _ in range(limit):
        parse_size("2GB")
    return limit


def test_a_signal_raises_only_in_an_interruptible_region_and_then_once():
    with signals_handled():
        os.kill(os.getpid(), SIGTERM)
        spin_in_own_code(20_000)  # no region yet: recorded only
        assert received() == SIGTERM
        with pytest.raises(Interrupted) as caught, interruptible():
            spin_in_own_code()
        assert caught.value.exit_code == 143
        assert str(caught.value) == HOW[SIGTERM]


def test_a_signal_in_a_deferred_region_waits_for_the_next_safe_point():
    with signals_handled():
        with interruptible():
            with deferred():
                os.kill(os.getpid(), SIGINT)
                assert spin_in_own_code(50_000) == 50_000  # not cut
            with pytest.raises(Interrupted) as caught:
                raise_if_interrupted()
        assert caught.value.exit_code == 130


def test_a_signal_while_an_error_is_handled_does_not_cut_the_handling():
    handled = []
    with signals_handled(), interruptible():
        try:
            raise ValueError("a failing build")
        except ValueError:
            os.kill(os.getpid(), SIGINT)
            handled.append(spin_in_own_code(50_000))  # the rollback runs to its end
        assert handled == [50_000]
        with pytest.raises(Interrupted):
            spin_in_own_code()


def test_a_signal_never_lands_in_code_that_is_not_leanroutes():
    # Code Blender calls back (its scripts, a user's handler) would print and drop it.
    foreign = compile("for _ in range(200_000): pass", "/elsewhere/user_handler.py", "exec")
    with signals_handled(), interruptible():
        os.kill(os.getpid(), SIGINT)
        exec(foreign, {})  # code from outside LeanRoute, on purpose
        with pytest.raises(Interrupted):
            spin_in_own_code()


def test_signals_blocked_holds_the_signal_until_released():
    with signals_handled(), interruptible():
        with signals_blocked():
            # To this thread: Blender's start-up runs in it (a signal to the process can be
            # taken by another thread; then the handler runs but, deferred, raises nothing).
            signal.pthread_kill(threading.get_ident(), SIGTERM)
            assert spin_in_own_code(20_000) == 20_000
            assert received() is None
            os.kill(os.getpid(), SIGINT)
            assert spin_in_own_code(20_000) == 20_000
        with pytest.raises(Interrupted):
            spin_in_own_code()
        assert received() in (SIGINT, SIGTERM)


def test_handlers_are_put_back_and_an_ignored_signal_stays_ignored():
    previous_term = signal.signal(SIGTERM, signal.SIG_IGN)
    try:
        with signals_handled():
            assert signal.getsignal(SIGINT) is interrupts._on_signal
            assert signal.getsignal(SIGTERM) is signal.SIG_IGN
        assert signal.getsignal(SIGINT) is signal.default_int_handler
        assert signal.getsignal(SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(SIGTERM, previous_term)


def test_regions_in_other_threads_change_nothing():
    outcome = []

    def worker():
        with interruptible(), deferred():
            outcome.append(len(interrupts._state.regions))

    with signals_handled():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert outcome == [0]
