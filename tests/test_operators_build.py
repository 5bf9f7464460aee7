"""Build, Cancel, Clear and Save As from the operators, on real Blender: success, cancel, error."""

import json

import bpy
import pytest
from helpers.addon import use_sample_city
from helpers.scene import fingerprint

from leanroute.cli.commands import main as cli_main
from leanroute.memory.blender_stats import orphan_counts
from leanroute.memory.bmesh_ledger import live_bmeshes
from leanroute.memory.report import PipelineReport
from leanroute.operators.build_job import BuildJob

pytestmark = pytest.mark.binary_compatible


def _report(scene) -> PipelineReport:
    return PipelineReport.from_dict(json.loads(scene.leanroute.last_report))


def _clean(orphans_before) -> None:
    assert orphan_counts() == orphans_before
    assert live_bmeshes() == 0
    assert not bpy.context.window_manager.leanroute_job.running


def test_build_from_the_panel_settings_makes_the_scene_and_keeps_its_report(addon_scene):
    orphans = orphan_counts()
    use_sample_city(addon_scene)
    assert bpy.ops.leanroute.build() == {"FINISHED"}
    build = bpy.data.collections["LeanRoute"]
    assert {o.name for o in build.objects} >= {"LeanRoute Roads", "LeanRoute Car"}
    report = _report(addon_scene)
    assert [s.status for s in report.stages] == ["ok"] * 9
    assert report.results["route"]["length_m"] > 1000
    assert addon_scene.camera.name == "LeanRoute Camera"
    _clean(orphans)


@pytest.mark.no_orphans
def test_rebuild_replaces_the_build_and_leaves_no_orphans(addon_scene):
    orphans = orphan_counts()
    use_sample_city(addon_scene)
    bpy.ops.leanroute.build()
    first = fingerprint()
    for _ in range(2):
        assert bpy.ops.leanroute.build() == {"FINISHED"}
    assert fingerprint() == first
    _clean(orphans)


def test_frame_range_timing_ends_the_drive_on_the_last_frame(addon_scene):
    use_sample_city(addon_scene)
    inputs = addon_scene.leanroute
    inputs.timing, inputs.frame_start, inputs.frame_end = "FRAMES", 10, 510
    bpy.ops.leanroute.build()
    assert (addon_scene.frame_start, addon_scene.frame_end) == (10, 510)
    car = bpy.data.objects["LeanRoute Car"]
    addon_scene.frame_set(510)
    end = car.matrix_world.translation.copy()
    addon_scene.frame_set(509)
    assert (car.matrix_world.translation - end).length > 0.1  # still moving a frame before


def test_a_cancelled_build_puts_the_scene_back(addon_scene):
    orphans = orphan_counts()
    before = fingerprint()
    use_sample_city(addon_scene)
    job = BuildJob(bpy.context)
    job.start()
    for _ in range(5):  # parse, project, route, roads, buildings: meshes exist now
        assert not job.tick()
    assert "LeanRoute Buildings" in bpy.data.objects
    job.cancel()
    assert job.done and "cancelled" in job.message
    assert fingerprint() == before
    assert addon_scene.leanroute.last_report == ""  # no build yet: nothing to describe
    _clean(orphans)
    # ...and building again afterwards works and is as clean.
    assert bpy.ops.leanroute.build() == {"FINISHED"}
    _clean(orphans)


def test_cancelling_a_rebuild_keeps_the_previous_build(addon_scene):
    orphans = orphan_counts()
    use_sample_city(addon_scene)
    bpy.ops.leanroute.build()
    built = fingerprint()
    addon_scene.leanroute.padding = 400.0
    job = BuildJob(bpy.context)
    job.start()
    for _ in range(7):  # up to and including route objects: the swap has not happened yet
        job.tick()
    report = addon_scene.leanroute.last_report
    job.cancel()
    assert fingerprint() == built
    assert addon_scene.leanroute.last_report == report  # still the build in the scene
    _clean(orphans)


def test_a_bad_input_is_an_error_report_with_the_cli_message(addon_scene, tmp_path, capsys):
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm version='0.6'>\n  <node id='1' lat='1' lon='1'/>\n  <foo/>\n</osm>\n")
    inputs = addon_scene.leanroute
    inputs.osm_path = str(bad)
    for lat, lon in ((1.0, 1.0), (1.001, 1.001)):
        point = inputs.waypoints.add()
        point.lat, point.lon = lat, lon
    before = fingerprint()
    with pytest.raises(RuntimeError) as raised:
        bpy.ops.leanroute.build()
    message = str(raised.value).strip()
    assert message.startswith("Error: ") and "bad.osm:3:" in message
    assert fingerprint() == before
    assert not bpy.context.window_manager.leanroute_job.running
    failed = _report(addon_scene)  # the failed build's table says where it stopped
    assert [s.status for s in failed.stages] == ["failed"] and failed.results["rolled_back"]

    code = cli_main(
        [
            "build",
            "--osm",
            str(bad),
            "--route",
            "1,1;1.001,1.001",
            "--out",
            str(tmp_path / "x.blend"),
        ]
    )
    cli_line = capsys.readouterr().err.strip()
    assert code == 1
    assert cli_line == "leanroute: error: " + message.removeprefix("Error: ")


def test_a_waypoint_off_the_map_names_the_waypoint_and_changes_nothing(addon_scene):
    use_sample_city(addon_scene)
    far = addon_scene.leanroute.waypoints.add()
    far.lat, far.lon = 46.0, -30.0  # 110 km north of the sample city
    before = fingerprint()
    with pytest.raises(RuntimeError, match="waypoint 4"):
        bpy.ops.leanroute.build()
    assert fingerprint() == before


def test_settings_errors_name_the_field(addon_scene):
    with pytest.raises(RuntimeError, match=r"OSM file: choose an \.osm file"):
        bpy.ops.leanroute.build()
    use_sample_city(addon_scene)
    addon_scene.leanroute.car_object = "Sedan"
    with pytest.raises(RuntimeError, match=r"car: choose the \.blend file"):
        bpy.ops.leanroute.build()


def test_clear_removes_everything_the_build_made_and_restores_the_scene(addon_scene):
    before = fingerprint()
    orphans = orphan_counts()
    assert not bpy.ops.leanroute.clear.poll()
    use_sample_city(addon_scene)
    bpy.ops.leanroute.build()
    bpy.ops.leanroute.build()
    assert bpy.ops.leanroute.clear.poll()
    assert bpy.ops.leanroute.clear() == {"FINISHED"}
    assert fingerprint() == before
    assert not bpy.ops.leanroute.clear.poll()
    _clean(orphans)


def test_save_as_writes_a_blend_and_leaves_the_open_file_alone(addon_scene, tmp_path):
    assert not bpy.ops.leanroute.save_as.poll()
    use_sample_city(addon_scene)
    bpy.ops.leanroute.build()
    target = tmp_path / "route.blend"
    assert bpy.ops.leanroute.save_as(filepath=str(target)) == {"FINISHED"}
    assert target.read_bytes()[:7] == b"BLENDER"
    assert bpy.data.filepath == ""
    with pytest.raises(RuntimeError, match="does not exist"):
        bpy.ops.leanroute.save_as(filepath=str(tmp_path / "missing" / "route.blend"))
    assert not (tmp_path / "missing").exists()


def test_a_hard_budget_stops_the_build_and_rolls_it_back(addon_scene, monkeypatch):
    from leanroute.properties import addon_preferences

    defaults = addon_preferences.default_preferences()
    defaults.hard_budget = "1 MB"
    monkeypatch.setattr(addon_preferences, "default_preferences", lambda: defaults)
    use_sample_city(addon_scene)
    before = fingerprint()
    with pytest.raises(RuntimeError, match="hard budget"):
        bpy.ops.leanroute.build()
    assert fingerprint() == before
