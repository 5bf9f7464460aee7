"""The command line: `python -m leanroute` (bpy module) and exit codes with one clear line."""

import json
import subprocess
import sys

import pytest
from helpers.paths import REPO_ROOT, SHARED_DATA

from leanroute.cli.commands import main
from leanroute.route.build import STAGES

KREMS = SHARED_DATA / "osm" / "krems.osm"


def run_module(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "leanroute", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )


def error_lines(run: subprocess.CompletedProcess) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("leanroute: error:")]


def test_demo_prints_the_memory_table_and_writes_the_scene_and_report(tmp_path):
    run = run_module("demo", "--out-dir", str(tmp_path / "demo"))
    assert run.returncode == 0, run.stdout + run.stderr
    for name in STAGES:
        assert name in run.stdout
    assert "synthetic" in run.stdout
    demo = tmp_path / "demo"
    assert (demo / "demo.blend").read_bytes()[:7] == b"BLENDER"
    report = json.loads((demo / "demo-report.json").read_text())
    assert [s["name"] for s in report["stages"]] == list(STAGES)
    assert all(s["status"] == "ok" for s in report["stages"])


def test_build_fails_with_one_line_naming_the_file(tmp_path):
    run = run_module(
        "build", "--osm", str(tmp_path / "nowhere.osm"), "--route", "1,2;3,4",
        "--out", str(tmp_path / "x.blend"),
    )  # fmt: skip
    assert run.returncode == 1
    assert len(error_lines(run)) == 1, run.stderr
    assert "nowhere.osm" in error_lines(run)[0]
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "x.blend").exists()


def test_a_bad_route_names_the_waypoint(tmp_path, capsys):
    code = main(
        [
            "build",
            "--osm",
            str(KREMS),
            "--route",
            "48.41,15.6;north",
            "--out",
            str(tmp_path / "x.blend"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("leanroute: error: --route") and "2" in err, err


def test_bad_usage_exits_2_with_one_line():
    run = run_module("build", "--no-such-option")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "leanroute build: error: the following arguments are required: --osm, --out "
        "(see: leanroute build --help)"
    ]


@pytest.mark.parametrize(
    "args, code, expected",
    [
        (["--speed", "0"], 2, "argument --speed: must be a number from 1 to 1,000 km/h, not 0"),
        (["--layers", "roads,trees"], 1, "--layers: unknown ['trees']"),
        (["--padding", "-5"], 2, "argument --padding: must be a number from 0 to 50,000 m"),
    ],
)
def test_bad_options_are_named(tmp_path, capsys, args, code, expected):
    assert code == main(
        ["build", "--osm", str(KREMS), "--route", "48.41,15.6;48.41,15.61",
         "--out", str(tmp_path / "x.blend"), *args]
    )  # fmt: skip
    assert expected in capsys.readouterr().err


def test_the_package_runs_from_any_folder(tmp_path):
    # -m finds the installed package, not the checkout's folder name.
    run = run_module("--help", cwd=tmp_path)
    assert run.returncode == 0
    assert "build" in run.stdout and "demo" in run.stdout
    assert REPO_ROOT.exists()


def test_demo_builds_a_city_of_the_given_size(tmp_path):
    from leanroute.route.osm_parse import read_osm

    run = run_module("demo", "--buildings", "50", "--out-dir", str(tmp_path), "--quiet")
    assert run.returncode == 0, run.stdout + run.stderr
    data = read_osm(tmp_path / "sample.osm")
    assert sum("building" in w.tags for w in data.ways.values()) == 50
    assert (tmp_path / "demo.blend").read_bytes()[:7] == b"BLENDER"
    report = json.loads((tmp_path / "demo-report.json").read_text())
    assert all(s["status"] == "ok" for s in report["stages"])


@pytest.mark.parametrize("size", ["0", "-3", "many"])
def test_demo_refuses_a_size_below_one(capsys, size):
    assert main(["demo", "--buildings", size]) == 2
    assert "--buildings" in capsys.readouterr().err
