"""Waypoint editing, the memory buttons, Leak Check and Export Report, on real Blender."""

import json

import bpy
import pytest
from helpers.addon import use_sample_city

from leanroute.memory.datablock_owner import OWNER_KEY
from leanroute.memory.report import PipelineReport

pytestmark = pytest.mark.binary_compatible


def _points(scene):
    return [(round(p.lat, 5), round(p.lon, 5)) for p in scene.leanroute.waypoints]


def test_waypoints_add_remove_and_reorder(addon_scene):
    inputs = addon_scene.leanroute
    assert not bpy.ops.leanroute.waypoint_remove.poll()
    assert not bpy.ops.leanroute.waypoint_move.poll()
    bpy.ops.leanroute.waypoint_add()
    inputs.waypoints[0].lat, inputs.waypoints[0].lon = 1.0, 2.0
    bpy.ops.leanroute.waypoint_add()  # a copy of the active one, after it
    inputs.waypoints[1].lat = 3.0
    assert _points(addon_scene) == [(1.0, 2.0), (3.0, 2.0)]
    assert inputs.waypoint_index == 1
    bpy.ops.leanroute.waypoint_move(direction="UP")
    assert _points(addon_scene) == [(3.0, 2.0), (1.0, 2.0)] and inputs.waypoint_index == 0
    assert bpy.ops.leanroute.waypoint_move(direction="UP") == {"CANCELLED"}  # already first
    bpy.ops.leanroute.waypoint_move(direction="DOWN")
    assert _points(addon_scene) == [(1.0, 2.0), (3.0, 2.0)]
    bpy.ops.leanroute.waypoint_remove()
    assert _points(addon_scene) == [(1.0, 2.0)] and inputs.waypoint_index == 0


def test_a_waypoint_from_the_3d_cursor_lies_where_the_cursor_is(addon_scene):
    from leanroute.route.build_collection import build_origin, latest_build
    from leanroute.route.projection import LocalProjection

    assert not bpy.ops.leanroute.waypoint_from_cursor.poll()  # no build, no projection yet
    use_sample_city(addon_scene)
    bpy.ops.leanroute.build()
    addon_scene.cursor.location = (150.0, -300.0, 0.0)
    addon_scene.leanroute.waypoint_index = 0
    assert bpy.ops.leanroute.waypoint_from_cursor() == {"FINISHED"}
    added = addon_scene.leanroute.waypoints[1]
    x, y = LocalProjection(*build_origin(latest_build(addon_scene))).forward(added.lat, added.lon)
    assert abs(float(x) - 150.0) < 1.0 and abs(float(y) + 300.0) < 1.0  # float32 degrees


def test_remove_build_orphans_spares_the_users_data(addon_scene):
    ours = bpy.data.meshes.new("orphan from a build")
    ours[OWNER_KEY] = "some-build-token"
    theirs = bpy.data.meshes.new("the user's spare mesh")
    assert bpy.ops.leanroute.remove_build_orphans() == {"FINISHED"}
    assert "orphan from a build" not in bpy.data.meshes
    assert theirs.name in bpy.data.meshes


def test_purge_all_orphans_also_removes_the_users_unused_data(addon_scene):
    bpy.data.meshes.new("the user's spare mesh")
    assert bpy.ops.leanroute.purge_all_orphans() == {"FINISHED"}
    assert "the user's spare mesh" not in bpy.data.meshes
    assert "Cube" in bpy.data.meshes  # used data stays


def test_collect_garbage_and_return_memory_run(addon_scene):
    assert bpy.ops.leanroute.collect_garbage() == {"FINISHED"}
    assert bpy.ops.leanroute.return_memory() == {"FINISHED"}  # Linux: glibc or jemalloc


def test_leak_check_rebuilds_and_keeps_its_verdict(addon_scene):
    use_sample_city(addon_scene)
    addon_scene.leanroute.leak_check_runs = 2
    assert bpy.ops.leanroute.leak_check() == {"FINISHED"}
    result = json.loads(addon_scene.leanroute.last_leak_check)
    assert result["runs"] == 2 and len(result["blender"]) == 3
    assert result["verdict"] in ("flat", "growing")
    assert set(result["growth"]) >= {"rss", "blender", "datablocks", "live_bmeshes"}
    assert "LeanRoute" in bpy.data.collections


def test_export_report_writes_json_that_reads_back(addon_scene, tmp_path):
    assert not bpy.ops.leanroute.export_report.poll()
    use_sample_city(addon_scene)
    bpy.ops.leanroute.build()
    target = tmp_path / "report.json"
    assert bpy.ops.leanroute.export_report(filepath=str(target)) == {"FINISHED"}
    data = json.loads(target.read_text())
    assert data["memory_now"]["rss"] > 0
    report = PipelineReport.from_dict(data)
    assert len(report.stages) == 9 and report.ok
    with pytest.raises(RuntimeError, match="is a folder"):
        bpy.ops.leanroute.export_report(filepath=str(tmp_path))


def test_the_full_stage_table_prints_from_a_script(addon_scene, capsys):
    assert not bpy.ops.leanroute.show_stage_table.poll()
    use_sample_city(addon_scene)
    bpy.ops.leanroute.build()
    assert bpy.ops.leanroute.show_stage_table() == {"FINISHED"}
    assert "route objects" in capsys.readouterr().out


def test_nothing_that_changes_data_can_start_while_a_build_runs(addon_scene):
    use_sample_city(addon_scene)
    bpy.ops.leanroute.build()
    bpy.context.window_manager.leanroute_job.running = True
    try:
        for name in ("build", "clear", "save_as", "leak_check", "waypoint_add",
                     "remove_build_orphans", "purge_all_orphans"):  # fmt: skip
            assert not getattr(bpy.ops.leanroute, name).poll(), name
        assert bpy.ops.leanroute.cancel_build.poll()
    finally:
        bpy.context.window_manager.leanroute_job.running = False
    assert not bpy.ops.leanroute.cancel_build.poll()
