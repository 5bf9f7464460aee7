"""The command line inside the blender executable: `blender -b --python cli/blender_script.py`."""

import subprocess

import pytest
from helpers.blender_env import isolated_blender_env
from helpers.paths import REPO_ROOT

pytestmark = pytest.mark.blender_cli

SCRIPT = REPO_ROOT / "cli" / "blender_script.py"


def run_in_blender(blender: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [blender, "-b", "--factory-startup", "--python", str(SCRIPT), "--", *args],
        env=isolated_blender_env(tmp_path / "user"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_runs_inside_blender_and_saves(blender_binary, tmp_path):
    run = run_in_blender(blender_binary, tmp_path, "demo", "--out-dir", str(tmp_path / "demo"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "animation" in run.stdout and "save" in run.stdout
    assert (tmp_path / "demo" / "demo.blend").read_bytes()[:7] == b"BLENDER"


def test_a_failure_inside_blender_exits_1_with_one_line(blender_binary, tmp_path):
    run = run_in_blender(
        blender_binary, tmp_path, "build", "--osm", str(tmp_path / "missing.osm"),
        "--route", "1,2;3,4", "--out", str(tmp_path / "x.blend"),
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "missing.osm" in errors[0], run.stderr
