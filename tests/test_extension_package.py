"""Packaging lane: build the per-platform zips, install one into the bpy module, remove it."""

import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from helpers.paths import REPO_ROOT, SCRIPTS_DIR

from tools.build_extension import expected_zip_names, host_platform
from tools.manifest import load_manifest

pytestmark = pytest.mark.packaging

PLATFORMS = ("linux-x64", "linux-arm64", "macos-x64", "macos-arm64", "windows-x64", "windows-arm64")
# The wheel platform tag each Blender platform must carry, and no other.
WHEEL_TAG = {
    "linux-x64": "x86_64.manylinux",
    "linux-arm64": "aarch64.manylinux",
    "macos-x64": "macosx_10_9_x86_64",
    "macos-arm64": "macosx_11_0_arm64",
    "windows-x64": "win_amd64",
    "windows-arm64": "win_arm64",
}


@pytest.fixture(scope="module")
def built_zips(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run(
        [sys.executable, "-m", "tools.build_extension", "--output-dir", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("validated: ") == len(PLATFORMS), run.stdout
    return {target: out / name for target, name in expected_zip_names(load_manifest()).items()}


@pytest.mark.parametrize("target", PLATFORMS)
def test_each_platform_zip_holds_the_add_on_and_only_its_own_wheel(built_zips, target):
    with zipfile.ZipFile(built_zips[target]) as archive:
        names = set(archive.namelist())
        manifest = tomllib.loads(archive.read("blender_manifest.toml").decode())
    assert {
        "__init__.py",
        "blender_manifest.toml",
        "panels/route_panel.py",
        "properties/route_inputs.py",
        "LICENSE",
    } <= names
    assert not {name for name in names if name.startswith(("tests/", "tools/", ".", "dist/"))}
    assert not {name for name in names if "__pycache__" in name or name.endswith(".pyc")}
    wheels = sorted(name for name in names if name.endswith(".whl"))
    assert len(wheels) == 1, wheels
    assert WHEEL_TAG[target] in wheels[0]
    # Blender reads these generated values in place of the source manifest's lists.
    assert manifest["build"]["generated"]["platforms"] == [target]
    assert manifest["build"]["generated"]["wheels"] == [f"./{wheels[0]}"]


def test_install_enable_disable_uninstall_in_the_bpy_module(built_zips, tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPTS_DIR / "extension_roundtrip.py"),
            str(built_zips[host_platform()]),
            "--user-resources",
            str(tmp_path / "user"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    line = next(x for x in run.stdout.splitlines() if x.startswith("LEANROUTE_ROUNDTRIP "))
    report = json.loads(line.removeprefix("LEANROUTE_ROUNDTRIP "))

    assert report["install_result"] == ["FINISHED"]
    assert report["enabled"] and report["panel_registered"]
    assert report["panel_category"] == "LeanRoute"
    assert "class added: LEANROUTE_PT_route" in report["added_by_enable"]
    assert report["bundled_psutil"] == ["python3.11/site-packages/psutil"]
    assert str(tmp_path / "user") in report["bundled_psutil_imports_from"]

    assert report["panel_after_disable"] is False
    assert report["left_after_disable"] == []

    assert report["uninstall_result"] == ["FINISHED"]
    assert report["files_after_uninstall"] is False
    assert report["psutil_after_uninstall"] is False
