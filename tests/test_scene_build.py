"""A whole route-scene build on real Blender: objects, animation, saving, rebuilds, failures."""

import json

import bpy
import numpy as np
import pytest
from helpers.scene import fingerprint

from leanroute.route.build import STAGES, SceneBuild
from leanroute.route.errors import RouteError, SettingsError
from leanroute.route.sample_city import write_sample_city
from leanroute.route.settings import BuildSettings

# The shell is written for Blender 3.4 to 5.x: these also run inside Debian's Blender 3.4.
pytestmark = pytest.mark.binary_compatible

EXPECTED_OBJECTS = {
    "LeanRoute Roads",
    "LeanRoute Buildings",
    "LeanRoute Ground",
    "LeanRoute Route",
    "LeanRoute Car",
    "LeanRoute Camera",
}


@pytest.fixture
def city(tmp_path_factory):
    return write_sample_city(tmp_path_factory.mktemp("city") / "sample.osm")


def sample_settings(city, tmp_path, **changes) -> BuildSettings:
    settings = BuildSettings(
        osm=city.path,
        waypoints=city.waypoints,
        out=tmp_path / "scene.blend",
        report=tmp_path / "report.json",
    )
    return settings.but(**changes) if changes else settings


def build_objects(name: str = "LeanRoute") -> set[str]:
    return {obj.name for obj in bpy.data.collections[name].all_objects}


def test_the_sample_city_builds_every_stage_and_saves(factory_scene, city, tmp_path):
    result = SceneBuild(sample_settings(city, tmp_path)).run()

    assert [stage.name for stage in result.report.stages] == list(STAGES)
    assert result.report.ok
    assert build_objects() == EXPECTED_OBJECTS
    assert result.results["buildings"]["built"] > 20
    assert result.results["buildings"]["with_holes"] >= 1
    assert result.results["roads"]["faces"] > 50
    scene = factory_scene
    assert scene.camera.name == "LeanRoute Camera"
    assert scene.frame_end > scene.frame_start + 24
    report = json.loads((tmp_path / "report.json").read_text())
    assert [stage["name"] for stage in report["stages"]] == list(STAGES)
    assert report["results"]["route"]["length_m"] > 300
    assert not list(tmp_path.glob(".*tmp*")), "no temporary file is left behind"


def test_the_car_drives_the_route_and_the_camera_follows(factory_scene, city, tmp_path):
    SceneBuild(sample_settings(city, tmp_path, out=None, report=None)).run()
    scene = factory_scene
    car, camera = bpy.data.objects["LeanRoute Car"], bpy.data.objects["LeanRoute Camera"]
    scene.frame_set(scene.frame_start)
    start, camera_start = car.matrix_world.translation.copy(), camera.location.copy()
    scene.frame_set(scene.frame_end)
    end = car.matrix_world.translation.copy()
    assert (end - start).length > 100
    assert (camera.location - camera_start).length > 100
    assert (camera.location - end).length < 40, "the camera stays close behind the car"


def test_the_saved_file_opened_again_holds_the_scene(factory_scene, city, tmp_path):
    SceneBuild(sample_settings(city, tmp_path)).run()
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "scene.blend"))
    assert build_objects() == EXPECTED_OBJECTS
    car = bpy.data.objects["LeanRoute Car"]
    assert car.animation_data is not None and car.animation_data.action is not None
    assert bpy.context.scene.camera.name == "LeanRoute Camera"
    assert len(bpy.data.objects["LeanRoute Buildings"].data.polygons) > 100


def test_a_rebuild_replaces_the_previous_build_completely(factory_scene, city, tmp_path):
    settings = sample_settings(city, tmp_path, out=None, report=None)
    SceneBuild(settings).run()
    counts = {name: len(getattr(bpy.data, name)) for name in ("meshes", "materials", "curves")}
    for _ in range(2):
        result = SceneBuild(settings).run()
    assert [c.name for c in factory_scene.collection.children] == ["Collection", "LeanRoute"]
    assert build_objects() == EXPECTED_OBJECTS, "base names come back after the swap"
    assert {name: len(getattr(bpy.data, name)) for name in counts} == counts
    assert result.results["replaced_previous_build"]["meshes"] >= 4
    assert not [m for m in bpy.data.meshes if m.users == 0], "no orphan meshes"


def test_a_failing_build_leaves_the_scene_as_it_was(factory_scene, city, tmp_path):
    SceneBuild(sample_settings(city, tmp_path, out=None, report=None)).run()
    before = fingerprint()
    far_away = ((city.waypoints[0]), (city.waypoints[0][0] + 1.0, city.waypoints[0][1]))
    with pytest.raises(RouteError, match="waypoint 2"):
        SceneBuild(sample_settings(city, tmp_path, waypoints=far_away)).run()
    assert fingerprint() == before, "the previous build survives, nothing new is left"
    assert not (tmp_path / "scene.blend").exists()
    assert not (tmp_path / "report.json").exists()


def test_a_failure_in_a_late_stage_removes_the_earlier_stages_data(factory_scene, city, tmp_path):
    before = fingerprint()
    build = SceneBuild(sample_settings(city, tmp_path))
    build.start()
    while build.next_stage != "animation":
        build.step()
    assert "LeanRoute" in bpy.data.collections
    # The car's data is gone: the animation stage fails as a real bug would.
    bpy.data.objects.remove(bpy.data.objects["LeanRoute Car"])
    with pytest.raises(KeyError):
        build.step()
    assert build.done
    assert fingerprint() == before
    assert not (tmp_path / "scene.blend").exists()


def test_cancel_between_stages_rolls_back(factory_scene, city, tmp_path):
    before = fingerprint()
    build = SceneBuild(sample_settings(city, tmp_path))
    build.start()
    for _ in range(5):
        build.step()
    build.cancel()
    assert build.done
    assert fingerprint() == before


def test_an_unwritable_output_is_refused_before_anything_is_built(factory_scene, city, tmp_path):
    before = fingerprint()
    with pytest.raises(SettingsError, match="does not exist"):
        SceneBuild(sample_settings(city, tmp_path, out=tmp_path / "no" / "scene.blend")).run()
    assert fingerprint() == before


def test_an_existing_output_is_replaced_whole(factory_scene, city, tmp_path):
    out = tmp_path / "scene.blend"
    out.write_bytes(b"old")
    SceneBuild(sample_settings(city, tmp_path)).run()
    assert out.read_bytes()[:7] == b"BLENDER"


def test_layers_can_be_left_out(factory_scene, city, tmp_path):
    settings = sample_settings(city, tmp_path, out=None, report=None, layers={"roads"})
    SceneBuild(settings).run()
    assert build_objects() == EXPECTED_OBJECTS - {"LeanRoute Buildings", "LeanRoute Ground"}


def test_a_car_can_come_from_the_users_blend(factory_scene, city, tmp_path):
    mesh = bpy.data.meshes.new("Van")
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    van = bpy.data.objects.new("Van", mesh)
    bpy.data.libraries.write(str(tmp_path / "cars.blend"), {van})
    bpy.data.objects.remove(van)
    bpy.data.meshes.remove(mesh)
    settings = sample_settings(
        city, tmp_path, out=None, report=None, car_blend=tmp_path / "cars.blend", car_object="Van"
    )
    SceneBuild(settings).run()
    assert len(bpy.data.objects["LeanRoute Car"].data.vertices) == 3
    with pytest.raises(SettingsError, match=r"no object named 'Bus'.*it has: Van"):
        SceneBuild(settings.but(car_object="Bus")).run()
    assert len(bpy.data.objects["LeanRoute Car"].data.vertices) == 3


def test_building_heights_reach_the_mesh(factory_scene, city, tmp_path):
    SceneBuild(sample_settings(city, tmp_path, out=None, report=None)).run()
    mesh = bpy.data.objects["LeanRoute Buildings"].data
    z = np.empty(len(mesh.vertices) * 3, np.float32)
    mesh.vertices.foreach_get("co", z)
    heights = np.unique(np.round(z[2::3], 1))
    assert len(heights) >= 3, "levels, height tags and the default give different heights"


def test_a_stale_temporary_from_a_killed_run_leaves_no_backup(factory_scene, city, tmp_path):
    import os

    stale = tmp_path / f".scene.tmp-{os.getpid()}.blend"
    stale.write_bytes(b"half a file")
    SceneBuild(sample_settings(city, tmp_path)).run()
    assert (tmp_path / "scene.blend").read_bytes()[:7] == b"BLENDER"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "scene.blend"]
