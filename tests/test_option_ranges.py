"""Option values Blender cannot represent or that make no sense are refused with the range.

Each limit is defined once (``route.settings.RANGES``) and holds in every way in: the
command line (a usage error naming the option and the range), the jobs file (its rows go
through ``BuildSettings.validate``), the panel's properties (the same min and max) and the
route stage, where a drive whose last key would fall past Blender's last frame is refused
before anything is written to Blender.
"""

import bpy
import pytest
from helpers.batch_jobs import job_rows, write_csv
from helpers.error_lines import EXCEPTION_NAME

from leanroute.batch.jobs_file import JobsFileError, read_jobs
from leanroute.cli.commands import main
from leanroute.route.build import SceneBuild
from leanroute.route.errors import SettingsError
from leanroute.route.sample_city import write_sample_city
from leanroute.route.settings import FRAME_MAX, RANGES, BuildSettings

# Blender's own limits, which the ranges must stay inside.
SCENE = bpy.types.Scene.bl_rna.properties
RENDER = bpy.types.RenderSettings.bl_rna.properties


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return write_sample_city(tmp_path_factory.mktemp("city") / "sample.osm", buildings=20)


def test_the_frame_limits_are_blenders_own():
    assert FRAME_MAX == SCENE["frame_start"].hard_max == SCENE["frame_end"].hard_max
    assert RANGES["frame_start"].low == SCENE["frame_start"].hard_min == 0
    assert RANGES["frame_end"].high == SCENE["frame_end"].hard_max == 1_048_574
    assert RENDER["fps"].hard_min <= RANGES["fps"].low <= RANGES["fps"].high
    assert RANGES["fps"].high <= RENDER["fps"].hard_max


# (option, value, the one line's message after "argument OPTION: ")
HOSTILE_VALUES = [
    ("--speed", "nan", "'nan' is not a number (it must be a finite number); give a number from 1"),
    ("--speed", "inf", "'inf' is not a number (it must be a finite number)"),
    ("--speed", "1e999", "'1e999' is too large a number; give a number from 1 to 1,000 km/h"),
    ("--speed", "1e-300", "must be a number from 1 to 1,000 km/h, not 1e-300"),
    ("--speed", "1e308", "must be a number from 1 to 1,000 km/h, not 1e308"),
    ("--speed", "0", "must be a number from 1 to 1,000 km/h, not 0"),
    ("--speed", "-5", "must be a number from 1 to 1,000 km/h, not -5"),
    ("--speed", "1_0", "'1_0' is not a number (write it without '_')"),
    ("--speed", "\uff14\uff10", "'\uff14\uff10' is not a number (use the ASCII digits 0-9)"),
    ("--padding", "inf", "'inf' is not a number (it must be a finite number)"),
    ("--padding", "1e9", "must be a number from 0 to 50,000 m, not 1e9"),
    ("--padding", "-1", "must be a number from 0 to 50,000 m, not -1"),
    ("--height", "-0", "must be a number from 0.1 to 1,000 m, not -0"),
    ("--height", "1e6", "must be a number from 0.1 to 1,000 m, not 1e6"),
    ("--height", "nan", "'nan' is not a number"),
    ("--fps", "0", "must be a whole number from 1 to 240 frames per second, not 0"),
    ("--fps", "100000", "must be a whole number from 1 to 240 frames per second, not 100000"),
    ("--fps", "24.0", "'24.0' is not a whole number; give a whole number from 1 to 240"),
    ("--fps", "9" * 400, "has 400 digits"),
    ("--frame-start", "-2000000", "must be a whole number from 0 to 1,048,573, not -2000000"),
    ("--frame-start", "-1", "must be a whole number from 0 to 1,048,573, not -1"),
    ("--frame-start", "1048574", "must be a whole number from 0 to 1,048,573, not 1048574"),
    ("--frame-end", "99999999", "must be a whole number from 1 to 1,048,574, not 99999999"),
    ("--frame-end", "1048575", "must be a whole number from 1 to 1,048,574, not 1048575"),
]


@pytest.mark.parametrize(("option", "value", "message"), HOSTILE_VALUES)
@pytest.mark.parametrize("command", ["build", "demo", "batch"])
def test_a_hostile_option_value_is_a_usage_error_with_the_range(
    tmp_path, capsys, command, option, value, message
):
    # Written as two words ("--frame-start -2000000"): a negative value needs no "=".
    args = {
        "build": ["build", "--osm", "x.osm", "--route", "1,2;3,4", "--out", "x.blend"],
        "demo": ["demo", "--out-dir", str(tmp_path / "demo")],
        "batch": ["batch", "jobs.csv", "--out", str(tmp_path / "out")],
    }[command]
    assert main([*args, option, value]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"error: argument {option}: " in lines[0] and message in lines[0], lines[0]
    assert not EXCEPTION_NAME.search(err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        ("speed", "0", "must be a number from 1 to 1,000 km/h, not 0.0"),
        ("speed", "1e308", "must be a number from 1 to 1,000 km/h"),
        ("padding", "1e9", "must be a number from 0 to 50,000 m"),
        ("height", "1e6", "must be a number from 0.1 to 1,000 m"),
        ("fps", "100000", "must be a whole number from 1 to 240 frames per second"),
        ("frame_start", "-5", "must be a whole number from 0 to 1,048,573, not -5"),
        ("frame_end", "99999999", "must be a whole number from 1 to 1,048,574"),
    ],
)
def test_a_jobs_file_row_is_held_to_the_same_ranges(tmp_path, column, value, why):
    row = {**job_rows(1)[0], column: value}
    with pytest.raises(JobsFileError) as caught:
        read_jobs(write_csv(tmp_path / "jobs.csv", [row]), tmp_path / "out")
    (problem,) = caught.value.problems
    assert problem.field == column
    assert why in problem.why


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("speed_kmh", float("nan")),
        ("speed_kmh", 1e-300),
        ("padding_m", float("inf")),
        ("default_height_m", -0.0),
        ("fps", 0),
        ("fps", 24.5),
        ("fps", True),
        ("frame_start", -1),
        ("frame_end", FRAME_MAX + 1),
        ("max_snap_m", 0.0),
    ],
)
def test_build_settings_refuse_values_outside_their_range(city, field, value):
    allowed = RANGES[field]
    with pytest.raises(SettingsError) as caught:
        BuildSettings(osm=city.path, waypoints=city.waypoints, **{field: value})
    assert caught.value.setting == field
    assert allowed.text() in str(caught.value)


def test_the_panel_limits_are_the_settings_ranges(addon_scene):
    properties = addon_scene.leanroute.bl_rna.properties
    for prop, field in (
        ("padding", "padding_m"),
        ("speed_kmh", "speed_kmh"),
        ("frame_start", "frame_start"),
        ("frame_end", "frame_end"),
    ):
        allowed = RANGES[field]
        assert (properties[prop].hard_min, properties[prop].hard_max) == pytest.approx(
            (allowed.low, allowed.high)
        ), prop
        if allowed.default is not None:
            assert properties[prop].default == pytest.approx(allowed.default), prop


def leanroute_blocks() -> int:
    return sum(1 for c in bpy.data.collections if c.name.startswith("LeanRoute")) + sum(
        1 for o in bpy.data.objects if o.name.startswith("LeanRoute")
    )


def test_a_drive_past_blenders_last_frame_is_refused_at_the_route_stage(
    factory_scene, city, tmp_path
):
    fast = BuildSettings(osm=city.path, waypoints=city.waypoints, speed_kmh=200.0, fps=24)
    SceneBuild(fast).run()
    keyed = factory_scene.frame_end - factory_scene.frame_start  # frames the drive spans - 1
    assert keyed > 10

    # The last start whose last key lands exactly on Blender's last frame builds ...
    SceneBuild(fast.but(frame_start=FRAME_MAX - keyed)).run()
    assert (factory_scene.frame_start, factory_scene.frame_end) == (FRAME_MAX - keyed, FRAME_MAX)

    # ... one frame later is refused before anything is written to Blender.
    before = leanroute_blocks(), len(bpy.data.meshes), len(bpy.data.actions)
    late = fast.but(frame_start=FRAME_MAX - keyed + 1, out=tmp_path / "late.blend")
    with pytest.raises(SettingsError) as caught:
        SceneBuild(late).run()
    message = str(caught.value)
    assert caught.value.setting == "frame_start"
    assert f"takes {keyed + 1:,} frames" in message
    assert f"its last key would fall on frame {FRAME_MAX + 1:,}" in message
    assert "past Blender's last frame 1,048,574" in message
    assert "lower the first frame, raise the speed or lower the fps" in message
    assert (leanroute_blocks(), len(bpy.data.meshes), len(bpy.data.actions)) == before
    assert factory_scene.frame_end == FRAME_MAX  # the previous build's range, untouched
    assert not (tmp_path / "late.blend").exists()


def test_the_command_line_names_the_option_for_a_drive_past_the_last_frame(city, tmp_path, capsys):
    route = ";".join(f"{lat},{lon}" for lat, lon in city.waypoints)
    out = tmp_path / "x.blend"
    args = ["build", "--osm", str(city.path), "--route", route, "--out", str(out)]
    assert main([*args, "--frame-start", "1048000", "--speed", "1", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("leanroute: error: --frame-start: the ") and "km drive at 1 km/h" in err
    assert "past Blender's last frame 1,048,574" in err
    assert not out.exists()
