"""Remove Build Orphans: every LeanRoute-tagged orphan goes, whoever made it; never the user's."""

import bpy
import pytest
from helpers.scene import fingerprint

from leanroute.memory import Pipeline
from leanroute.memory.datablock_owner import OWNER_KEY, remove_tagged_orphans

pytestmark = [pytest.mark.binary_compatible, pytest.mark.usefixtures("factory_scene")]


def tagged(idb, token: str = "build one"):
    idb[OWNER_KEY] = token
    return idb


def test_removes_tagged_orphans_of_any_build_and_nothing_else():
    tagged(bpy.data.meshes.new("orphan of build one"))
    tagged(bpy.data.materials.new("orphan of build two"), "build two")
    tagged(bpy.data.images.new("orphan image", 8, 8), "build three")
    bpy.data.meshes.new("the user's orphan")
    kept = tagged(bpy.data.meshes.new("tagged, fake user"))
    kept.use_fake_user = True
    used = tagged(bpy.data.meshes.new("tagged, used"))
    bpy.context.scene.collection.objects.link(bpy.data.objects.new("user", used))

    removed = remove_tagged_orphans()

    assert removed == {"meshes": 1, "materials": 1, "images": 1}
    names = {
        idb.name for kind in ("meshes", "materials", "images") for idb in getattr(bpy.data, kind)
    }
    assert {"the user's orphan", "tagged, fake user", "tagged, used"} <= names
    assert not names & {"orphan of build one", "orphan of build two", "orphan image"}
    assert remove_tagged_orphans() == {}


def test_removal_is_recursive_but_stops_at_untagged_data():
    material = tagged(bpy.data.materials.new("tagged material"))
    users_material = bpy.data.materials.new("the user's material")
    mesh = tagged(bpy.data.meshes.new("tagged mesh"))
    mesh.materials.append(material)
    mesh.materials.append(users_material)
    tagged(bpy.data.objects.new("tagged object, in no collection", mesh))

    removed = remove_tagged_orphans()

    # The object first, then its mesh, then the mesh's tagged material.
    assert removed == {"objects": 1, "meshes": 1, "materials": 1}
    assert "the user's material" in bpy.data.materials
    # Only the removed mesh used it: it keeps a fake user, so saving the file keeps it too.
    assert bpy.data.materials["the user's material"].use_fake_user
    assert bpy.data.materials["the user's material"].users == 1


def test_a_scene_without_tagged_orphans_is_left_exactly_as_it_was():
    bpy.data.meshes.new("the user's orphan")
    bpy.data.materials.new("another of the user's")
    before = fingerprint()
    assert remove_tagged_orphans() == {}
    assert fingerprint() == before


def build_something(name: str) -> None:
    with Pipeline(name) as pipeline, pipeline.stage("make"):
        material = bpy.data.materials.new(f"{name} material")
        mesh = bpy.data.meshes.new(f"{name} mesh")
        mesh.materials.append(material)
        bpy.context.scene.collection.objects.link(bpy.data.objects.new(f"{name} object", mesh))


def test_orphans_of_earlier_builds_are_found_after_a_file_reload(tmp_path):
    build_something("first")
    build_something("second")
    path = str(tmp_path / "built.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    bpy.ops.wm.open_mainfile(filepath=path, load_ui=False)
    assert bpy.data.meshes["first mesh"].get(OWNER_KEY), "the tag is saved with the file"

    # The user deletes both objects, the way the Delete operator does.
    bpy.data.objects.remove(bpy.data.objects["first object"])
    bpy.data.objects.remove(bpy.data.objects["second object"])
    users_mesh = bpy.data.meshes["Cube"]
    bpy.data.objects.remove(bpy.data.objects["Cube"])

    removed = remove_tagged_orphans()

    assert removed == {"meshes": 2, "materials": 2}
    assert not any(name.startswith(("first", "second")) for name in bpy.data.meshes.keys())  # noqa: SIM118
    assert users_mesh.users == 0 and "Cube" in bpy.data.meshes
