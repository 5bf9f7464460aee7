"""Relative paths and refused outputs inside the blender executable (Blender 3.4 in CI).

The README's ``blender -b --python cli/blender_script.py -- build … --out city.blend`` failed
at the save on Blender 3.4, which refuses a relative file path: every path is now made
absolute where it enters, against the folder the command was started in.
"""

import os
import stat
import subprocess

import pytest
from helpers.batch_jobs import write_csv
from helpers.blender_env import isolated_blender_env
from helpers.error_lines import assert_one_line
from helpers.paths import REPO_ROOT

from leanroute.route.sample_city import write_sample_city

pytestmark = pytest.mark.blender_cli

SCRIPT = REPO_ROOT / "cli" / "blender_script.py"


def in_blender(blender: str, cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [blender, "-b", "--factory-startup", "--python", str(SCRIPT), "--", *args],
        env=isolated_blender_env(cwd / "user"),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def city(tmp_path):
    return write_sample_city(tmp_path / "city.osm", buildings=20)


def route_of(city) -> str:
    return ";".join(f"{lat},{lon}" for lat, lon in city.waypoints)


def test_the_readme_build_with_relative_paths_saves(blender_binary, tmp_path, city):
    (tmp_path / "scenes").mkdir()
    run = in_blender(
        blender_binary, tmp_path, "build", "--osm", "city.osm", "--route", route_of(city),
        "--out", "scenes/city.blend", "--report", "city.json", "--quiet",
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "scenes" / "city.blend").read_bytes()[:7] == b"BLENDER"
    assert (tmp_path / "city.json").read_text().startswith("{")
    leftovers = [p.name for p in tmp_path.rglob("*") if ".tmp-" in p.name or p.name[-1] == "@"]
    assert leftovers == []


def test_batch_with_relative_paths_saves(blender_binary, tmp_path, city):
    write_csv(
        tmp_path / "jobs.csv", [{"id": "one", "osm": "city.osm", "waypoints": route_of(city)}]
    )
    batch = in_blender(blender_binary, tmp_path, "batch", "jobs.csv", "--out", "out", "--quiet")
    assert batch.returncode == 0, batch.stdout + batch.stderr
    assert (tmp_path / "out" / "one.blend").read_bytes()[:7] == b"BLENDER"


def test_demo_with_a_relative_folder_saves(blender_binary, tmp_path):
    demo = in_blender(
        blender_binary, tmp_path, "demo", "--out-dir", "demo", "--buildings", "5", "--quiet"
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert (tmp_path / "demo" / "demo.blend").read_bytes()[:7] == b"BLENDER"


def test_a_device_as_out_is_refused_inside_blender(blender_binary, tmp_path, city):
    os.mkfifo(tmp_path / "pipe.blend")
    run = in_blender(
        blender_binary, tmp_path, "build", "--osm", "city.osm", "--route", route_of(city),
        "--out", "pipe.blend",
    )  # fmt: skip
    assert_one_line(
        run.returncode,
        "\n".join(line for line in run.stderr.splitlines() if "error:" in line),
        [f"--out: {tmp_path}/pipe.blend is a named pipe (FIFO), not a regular file"],
    )
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe.blend").st_mode)
