"""A failed save leaves the scene as it was: the previous build is back, the new one gone.

The save is failed for real: its folder removed just before the save stage, the folder of
the report removed (it is written after the .blend), the backup's own folder missing, and a
full disk (``RLIMIT_FSIZE`` in a subprocess, since CI runs as root and permissions do not
stop root). Each time the previous build's objects, geometry, names, tags, origin,
animation, the user's links into it and the scene settings are as before, nothing of the
new build is left, no file is under the final name and no temporary is left behind.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import bpy
import pytest
from helpers.blender_env import isolated_blender_env
from helpers.build_state import build_state, differences
from helpers.paths import REPO_ROOT
from helpers.user_edits import (
    build,
    build_object,
    duplicate,
    mark,
    marked,
    settings_for,
    tagged_count,
)

from leanroute.route.build import SceneBuild
from leanroute.route.build_collection import all_builds
from leanroute.route.errors import LeanRouteError, describe
from leanroute.route.sample_city import write_sample_city

TESTS = REPO_ROOT / "tests"


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return write_sample_city(tmp_path_factory.mktemp("city") / "small.osm", buildings=20)


def users_edits() -> None:
    """Links from the user's data into the build, and view-layer state, to be restored."""
    scene = bpy.context.scene
    (collection,) = all_builds(scene)
    collection.objects.link(mark(bpy.data.objects.new("my marker", None), "marker"))
    rig = mark(bpy.data.objects.new("rig", None), "rig")
    scene.collection.objects.link(rig)
    rig.parent = build_object("LeanRoute Car")
    bpy.data.objects["Cube"].data.materials.append(bpy.data.materials["LeanRoute building"])
    build_object("LeanRoute Ground").hide_set(True)
    # Adopted on the swap (kept, untagged), then theirs again when the swap is undone.
    sharer = mark(bpy.data.objects.new("sharer", build_object("LeanRoute Roads").data), "s")
    scene.collection.objects.link(sharer)
    copy = mark(collection.copy(), "collection copy")
    copy.name = "my copy"
    scene.collection.children.link(copy)
    # Kept with a fake user on the swap, used by the build again when it comes back.
    build_object("LeanRoute Ground").data.materials[0] = mark(bpy.data.materials.new("p"), "p")
    mark(duplicate(build_object("LeanRoute Car")), "car copy")


def backups() -> list[str]:
    """Backups of replaced builds this process left on disk."""
    return glob.glob(os.path.join(tempfile.gettempdir(), f"leanroute-replaced-{os.getpid()}-*"))


def assert_put_back(before: dict, error: BaseException, where) -> None:
    line = describe(error)
    assert "\n" not in line and str(where) in line, line
    assert not differences(before, build_state()), "\n".join(differences(before, build_state()))
    assert marked()["rig"].parent == build_object("LeanRoute Car")
    assert "LeanRoute" in [c.name for c in marked()["marker"].users_collection]
    assert build_object("LeanRoute Ground").hide_get()
    assert not backups(), "the backup of the replaced build is deleted"


@pytest.mark.binary_compatible
def test_a_save_into_a_removed_folder_puts_the_previous_build_back(factory_scene, city, tmp_path):
    build(city)
    per_build = tagged_count()
    users_edits()
    before, tags = build_state(), tagged_count()
    folder = tmp_path / "out"
    folder.mkdir()

    def remove_the_folder(stage, *_):
        if stage == "save":
            shutil.rmtree(folder)

    settings = settings_for(city, out=folder / "scene.blend")
    with pytest.raises(OSError) as raised:
        SceneBuild(settings, on_stage=remove_the_folder).run()

    assert_put_back(before, raised.value, folder / "scene.blend")
    assert "no longer exists" in describe(raised.value)
    assert not folder.exists()
    assert tagged_count() == tags
    # The build put back is a build like any other: the next rebuild replaces it whole (and
    # the user's copies lose the tags they inherited).
    build(city)
    assert tagged_count() == per_build
    assert marked()["rig"].parent == build_object("LeanRoute Car")


@pytest.mark.binary_compatible
def test_a_backup_deleted_before_it_is_needed_keeps_the_new_build_and_says_so(
    factory_scene, city, tmp_path
):
    build(city)
    folder = tmp_path / "out"
    folder.mkdir()

    def remove_folder_and_backups(stage, *_):
        if stage == "save":
            shutil.rmtree(folder)

    class Build(SceneBuild):
        def _roll_back(self):
            for path in backups():  # a temporary-folder cleaner got there first
                os.unlink(path)
            super()._roll_back()

    with pytest.raises(LeanRouteError) as raised:
        Build(settings_for(city, out=folder / "x.blend"), on_stage=remove_folder_and_backups).run()
    line = describe(raised.value)
    assert "\n" not in line and "previous build could not be put back" in line, line
    assert "leanroute-replaced-" in line
    assert len(all_builds(bpy.context.scene)) == 1, "the new, complete build stays"
    assert build_object("LeanRoute Car").animation_data.action is not None


@pytest.mark.binary_compatible
def test_an_output_that_cannot_be_renamed_into_place_puts_the_previous_build_back(
    factory_scene, city, tmp_path
):
    build(city)
    users_edits()
    before = build_state()
    out = tmp_path / "scene.blend"

    def a_folder_takes_the_name(stage, *_):
        if stage == "save":
            (out / "in the way").mkdir(parents=True)  # the rename at the end fails

    with pytest.raises(OSError) as raised:
        SceneBuild(settings_for(city, out=out), on_stage=a_folder_takes_the_name).run()
    assert_put_back(before, raised.value, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene.blend"]
    assert [p.name for p in out.iterdir()] == ["in the way"], "no temporary left"


@pytest.mark.binary_compatible
def test_linked_and_relative_data_the_build_used_comes_back_as_it_was(
    factory_scene, city, tmp_path
):
    library = tmp_path / "library.blend"
    material = bpy.data.materials.new("from the library")
    bpy.data.libraries.write(str(library), {material}, fake_user=True)
    bpy.data.materials.remove(material)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "main.blend"))  # relative paths
    with bpy.data.libraries.load("//library.blend", link=True, relative=True) as (_, target):
        target.materials = ["from the library"]
    image = bpy.data.images.new("texture", 4, 4)
    image.filepath_raw = "//textures/texture.png"
    build(city)
    roads = build_object("LeanRoute Roads").data
    roads.materials[1] = bpy.data.materials["from the library"]
    image_user = bpy.data.materials.new("textured")
    image_user["image"] = image  # an ID property pointing at the image: a dependency
    roads.materials[2] = image_user
    before = build_state()
    folder = tmp_path / "out"
    folder.mkdir()

    def remove_the_folder(stage, *_):
        if stage == "save":
            shutil.rmtree(folder)

    with pytest.raises(OSError):
        SceneBuild(settings_for(city, out=folder / "x.blend"), on_stage=remove_the_folder).run()
    assert not differences(before, build_state()), "\n".join(differences(before, build_state()))
    slots = [m.name if m else None for m in build_object("LeanRoute Roads").data.materials]
    assert slots[1:3] == ["from the library", "textured"]
    assert bpy.data.materials["from the library"].library is not None
    assert [lib.filepath for lib in bpy.data.libraries] == ["//library.blend"]
    assert bpy.data.images["texture"].filepath_raw == "//textures/texture.png"


@pytest.mark.binary_compatible
def test_a_report_that_cannot_be_written_puts_the_previous_build_back(
    factory_scene, city, tmp_path
):
    build(city)
    users_edits()
    before = build_state()
    reports = tmp_path / "reports"
    reports.mkdir()

    def remove_the_report_folder(stage, *_):
        if stage == "save":
            shutil.rmtree(reports)

    settings = settings_for(city, out=tmp_path / "scene.blend", report=reports / "r.json")
    with pytest.raises(OSError) as raised:
        SceneBuild(settings, on_stage=remove_the_report_folder).run()

    assert_put_back(before, raised.value, reports / "r.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "no .blend without its report"


@pytest.mark.binary_compatible
def test_a_backup_that_cannot_be_written_leaves_the_previous_build(
    factory_scene, city, tmp_path, monkeypatch
):
    build(city)
    users_edits()
    before = build_state()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no such folder"))
    with pytest.raises(LeanRouteError, match="previous build") as raised:
        build(city, out=tmp_path / "scene.blend")
    assert_put_back(before, raised.value, tmp_path / "no such folder")
    assert list(tmp_path.iterdir()) == []


# (A signal once the files are renamed into place finds the build finished: not a failure.)
@pytest.mark.parametrize("moment", ["stage:save", "stage-end:save", "temp-started:scene.json"])
def test_ctrl_c_during_a_rebuilds_save_puts_the_previous_build_back(
    factory_scene, city, tmp_path, monkeypatch, capsys, moment
):
    from leanroute.cli.commands import main
    from leanroute.route import kill_points

    folder = tmp_path / "out"
    folder.mkdir()
    route = ";".join(f"{lat:.7f},{lon:.7f}" for lat, lon in city.waypoints)
    arguments = ["build", "--osm", str(city.path), "--route", route, "--quiet"]
    arguments += ["--out", str(folder / "scene.blend"), "--report", str(folder / "scene.json")]
    assert main(arguments) == 0
    users_edits()
    before, files = build_state(), sorted(p.name for p in folder.iterdir())
    monkeypatch.setattr(kill_points, "_reached", {})
    monkeypatch.setenv("LEANROUTE_TEST_KILL", moment)
    monkeypatch.setenv("LEANROUTE_TEST_SIGNAL", "SIGINT")
    assert main(arguments) == 130
    assert len(capsys.readouterr().err.splitlines()) == 1
    assert not differences(before, build_state()), "\n".join(differences(before, build_state()))
    assert sorted(p.name for p in folder.iterdir()) == files, "no new file, no temporary"
    assert not backups()


DISK_FULL = textwrap.dedent(
    """
    import json, os, resource, signal, sys
    sys.path.insert(0, {tests!r})
    import bpy
    from helpers.build_state import build_state, differences
    from helpers.user_edits import build, marked, mark, settings_for
    from leanroute.route.errors import describe
    from leanroute.route.sample_city import write_sample_city
    from pathlib import Path

    folder = Path({folder!r})
    city = write_sample_city(folder / "city.osm", buildings=20)
    build(city)
    # The user's own heavy mesh: the whole file is far larger than the build's backup.
    mesh = mark(bpy.data.meshes.new("heavy"), "heavy")
    mesh.from_pydata([(i * 0.01, (i % 7) * 0.1, 0) for i in range(300_000)], [], [])
    bpy.context.scene.collection.objects.link(bpy.data.objects.new("heavy", mesh))
    before = build_state()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, resource.RLIM_INFINITY))
    out = folder / "out" / "scene.blend"
    try:
        build(city, out=out)
        error = None
    except Exception as failure:
        error = describe(failure)
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
    print(json.dumps({{
        "error": error,
        "differences": differences(before, build_state()),
        "files": sorted(os.listdir(folder / "out")),
        "heavy": len(marked()["heavy"].vertices),
    }}))
    """
)


def test_a_full_disk_puts_the_previous_build_back(tmp_path):
    (tmp_path / "out").mkdir()
    script = tmp_path / "disk_full.py"
    script.write_text(DISK_FULL.format(tests=str(TESTS), folder=str(tmp_path)))
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    run = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "TMPDIR": str(temporary)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["error"] and "\n" not in result["error"], result
    assert "scene.blend" in result["error"], result["error"]
    assert result["differences"] == [], "\n".join(result["differences"])
    assert result["files"] == [], "no final file, no temporaries"
    assert result["heavy"] == 300_000
    assert list(temporary.iterdir()) == [], "the backup of the replaced build is deleted"


@pytest.mark.blender_cli
def test_the_blender_command_line_on_a_full_disk_exits_1_with_one_line(blender_binary, tmp_path):
    env = isolated_blender_env(tmp_path / "user")
    city = write_sample_city(tmp_path / "city.osm", buildings=20)
    route = ";".join(f"{lat},{lon}" for lat, lon in city.waypoints)
    script = REPO_ROOT / "cli" / "blender_script.py"
    heavy = tmp_path / "heavy.blend"
    make_heavy = (
        "import bpy; m = bpy.data.meshes.new('heavy'); "
        "m.from_pydata([(i * 0.01, (i % 7) * 0.1, 0) for i in range(300000)], [], []); "
        "bpy.context.scene.collection.objects.link(bpy.data.objects.new('heavy', m)); "
        f"bpy.ops.wm.save_as_mainfile(filepath={str(heavy)!r})"
    )
    # No audio: PulseAudio's shared memory would itself trip the file size limit at start.
    blender = [blender_binary, "-b", "-noaudio"]
    first = subprocess.run(
        [*blender, "--factory-startup", "--python-expr", make_heavy],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert heavy.is_file(), first.stdout + first.stderr
    base = tmp_path / "base.blend"
    args = ["build", "--osm", str(city.path), "--route", route]
    made = subprocess.run(
        [*blender, str(heavy), "--python", str(script), "--", *args, "--out", str(base)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    base_bytes = base.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    temporary = tmp_path / "tmp"
    temporary.mkdir()

    def full_disk():
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, resource.RLIM_INFINITY))

    run = subprocess.run(
        [*blender, str(base), "--python", str(script), "--", *args, "--out", str(out / "x.blend")],
        env={**env, "TMPDIR": str(temporary)}, capture_output=True, text=True, timeout=300,
        check=False, preexec_fn=full_disk,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "x.blend" in errors[0], run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert list(out.iterdir()) == [], "no final file, no temporaries"
    assert list(temporary.iterdir()) == [], "the backup of the replaced build is deleted"
    assert base.read_bytes() == base_bytes
