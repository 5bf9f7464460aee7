"""Ctrl+C and SIGTERM inside the blender binary: ``blender -b --python cli/blender_script.py``.

As tests/test_interrupts.py does for ``python -m leanroute``: the process signals itself at
named moments, or the test signals it once LeanRoute's handlers are in (Blender's own take
Ctrl+C until its script runs: docs/route.md), once or over and over. Exit 130/143, the one
line, the previous outputs byte-identical, nothing new, no temporaries.
"""

import signal

import pytest
from helpers.blender_env import isolated_blender_env
from helpers.interrupt_runs import (
    assert_interrupted,
    old_outputs,
    run,
    run_and_signal,
    signal_env,
    snapshot,
)
from helpers.paths import REPO_ROOT

from leanroute.route.sample_city import write_sample_city

pytestmark = pytest.mark.blender_cli

SCRIPT = REPO_ROOT / "cli" / "blender_script.py"
PROG = "blender -b --python blender_script.py --"
SIGINT, SIGTERM = signal.SIGINT, signal.SIGTERM


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A small generated city (20 buildings)."""
    return write_sample_city(tmp_path_factory.mktemp("city") / "city.osm", buildings=20)


def blender_command(blender: str, *args: str) -> list[str]:
    return [blender, "-b", "--factory-startup", "--python", str(SCRIPT), "--", *args]


def build_args(city, folder) -> list[str]:
    route = ";".join(f"{lat:.7f},{lon:.7f}" for lat, lon in city.waypoints)
    return [
        "build", "--osm", str(city.path), "--route", route, "--out", str(folder / "city.blend"),
        "--report", str(folder / "city.json"), "--quiet",
    ]  # fmt: skip


MOMENTS = [
    ("arguments", SIGINT),
    ("stage:buildings", SIGINT),
    ("stage-end:save", SIGTERM),  # the .blend saved under its temporary name
    ("temp-started:city.json", SIGINT),  # the report being written
]


@pytest.mark.parametrize(("point", "signum"), MOMENTS, ids=[f"{p}-{s.name}" for p, s in MOMENTS])
def test_build_in_blender_stopped_at_a_named_moment_writes_nothing(
    blender_binary, city, tmp_path, point, signum
):
    folder = tmp_path / "out"
    before = old_outputs(folder)
    env = signal_env(point, signum, isolated_blender_env(tmp_path / "user"))
    done = run(blender_command(blender_binary, *build_args(city, folder)), env=env)
    assert_interrupted(done, signum, PROG, folder, before)


@pytest.mark.parametrize("repeat_every", [None, 0.005], ids=["once", "over-and-over"])
def test_build_in_blender_signalled_by_the_user_is_rolled_back(
    blender_binary, city, tmp_path, repeat_every
):
    folder = tmp_path / "out"
    before = old_outputs(folder)
    done = run_and_signal(
        blender_command(blender_binary, *build_args(city, folder)),
        SIGINT,
        delay=0.2,
        repeat_every=repeat_every,
        env=isolated_blender_env(tmp_path / "user"),
    )
    assert_interrupted(done, SIGINT, PROG, folder, before)


def test_demo_in_blender_stopped_leaves_its_folder_as_it_was(blender_binary, tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "sample.osm").write_bytes(b"previous sample city\n")
    before = snapshot(folder)
    env = signal_env("stage:roads", SIGTERM, isolated_blender_env(tmp_path / "user"))
    command = blender_command(blender_binary, "demo", "--out-dir", str(folder), "--quiet")
    assert_interrupted(run(command, env=env), SIGTERM, PROG, folder, before)
