"""The blender executable runs a script with `-b --factory-startup --python FILE -- args`."""

import json
import subprocess

import pytest
from helpers.blender_env import isolated_blender_env
from helpers.paths import SCRIPTS_DIR

pytestmark = pytest.mark.blender_cli

PROBE = SCRIPTS_DIR / "addon_probe.py"


def run_probe(blender: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [blender, "-b", "--factory-startup", "--python", str(PROBE), "--", *args],
        env=isolated_blender_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def probe_report(run: subprocess.CompletedProcess) -> dict:
    lines = [line for line in run.stdout.splitlines() if line.startswith("LEANROUTE_PROBE ")]
    assert len(lines) == 1, run.stdout + run.stderr
    return json.loads(lines[0].removeprefix("LEANROUTE_PROBE "))


def test_legacy_add_on_is_found_enabled_and_disabled(blender_binary, tmp_path):
    run = run_probe(blender_binary, tmp_path, "--expect-class", "LEANROUTE_PT_route")
    assert run.returncode == 0, run.stdout + run.stderr
    report = probe_report(run)
    assert report["discovered"] is True
    assert report["bl_info_name"] == "LeanRoute"
    assert report["enabled"] == {"LEANROUTE_PT_route": True}
    assert report["after_disable"] == {"LEANROUTE_PT_route": False}


def test_a_failed_check_gives_a_non_zero_exit_and_says_what(blender_binary, tmp_path):
    run = run_probe(blender_binary, tmp_path, "--expect-class", "LEANROUTE_PT_missing")
    assert run.returncode == 1, run.stdout + run.stderr
    assert probe_report(run)["missing"] == ["LEANROUTE_PT_missing"]
    assert "not registered: ['LEANROUTE_PT_missing']" in run.stderr


def test_bad_arguments_give_exit_code_2_and_usage(blender_binary, tmp_path):
    run = run_probe(blender_binary, tmp_path, "--no-such-option")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "usage: addon_probe.py" in run.stderr
