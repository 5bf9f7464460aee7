"""Ownership is never inherited: rebuilds, Clear and orphan removal take only the build's own.

A rebuild, Clear and Remove Build Orphans take only what a LeanRoute build itself made,
never the user's copies, objects, links or handler-made data.

Each case is one user edit the issue names, done the way Blender does it (Shift+D, Alt+D,
copying a collection, linking, parenting, a material slot, a handler), then a rebuild, the
orphan sweep and Clear, then a save and reload: the user's data-block is still there with
its links, and no LeanRoute data piles up.
"""

import bpy
import pytest
from helpers.scene import fingerprint
from helpers.user_edits import (
    build,
    build_object,
    clear,
    duplicate,
    mark,
    marked,
    save_and_reload,
    tagged_count,
)

from leanroute.memory.datablock_identity import IDENTITY_KEY, is_ours, owner_token, tagged_ids
from leanroute.memory.datablock_owner import remove_tagged_orphans
from leanroute.progress.build_summary import summary_lines
from leanroute.route.build_collection import BUILD_TAG_KEYS, all_builds
from leanroute.route.errors import RouteError
from leanroute.route.sample_city import write_sample_city

# Blender 3.4 too: there identity is the name alone (no session_uid).
pytestmark = [pytest.mark.binary_compatible, pytest.mark.usefixtures("factory_scene")]


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return write_sample_city(tmp_path_factory.mktemp("city") / "small.osm", buildings=20)


def the_build() -> "bpy.types.Collection":
    (collection,) = all_builds(bpy.context.scene)
    return collection


def every_step(city, tmp_path, check) -> None:
    """Rebuild, sweep orphans, Clear, save and reload: *check()* holds after each."""
    build(city)
    check("rebuild")
    remove_tagged_orphans(BUILD_TAG_KEYS)
    check("orphans")
    clear()
    check("clear")
    save_and_reload(tmp_path / "after.blend")
    check("reloaded")


def test_a_shift_d_copy_of_a_build_object_is_the_users(city, tmp_path):
    build(city)
    copy = mark(duplicate(build_object("LeanRoute Buildings")), "copy")
    vertices = len(copy.data.vertices)
    assert owner_token(copy) is not None, "Blender copied the tag: this test means something"

    def check(step):
        copy = marked()["copy"]
        assert len(copy.data.vertices) == vertices, step
        assert copy.users_collection, f"{step}: the copy is in no collection"
        assert not is_ours(copy)

    every_step(city, tmp_path, check)


def test_an_alt_d_copy_keeps_the_shared_mesh(city, tmp_path):
    build(city)
    original = build_object("LeanRoute Buildings")
    copy = mark(duplicate(original, linked=True), "linked copy")
    mesh = mark(copy.data, "shared mesh")
    assert mesh == original.data
    vertices = len(mesh.vertices)

    def check(step):
        copy, mesh = marked()["linked copy"], marked()["shared mesh"]
        assert copy.data == mesh, step
        assert len(mesh.vertices) == vertices, step
        assert not is_ours(mesh), f"{step}: the mesh a user object uses is the user's now"
        assert all(slot.material is not None for slot in copy.material_slots), step

    every_step(city, tmp_path, check)
    # The rebuild made its own buildings mesh rather than keep using the adopted one.


@pytest.mark.parametrize("rename", [None, "My City"])
@pytest.mark.parametrize("deep", [False, True], ids=["shared objects", "copied objects"])
def test_a_copied_build_collection_keeps_its_objects(city, tmp_path, rename, deep):
    build(city)
    original = the_build()
    copy = mark(original.copy(), "collection copy")
    if rename:
        copy.name = rename
    bpy.context.scene.collection.children.link(copy)
    if deep:
        for obj in list(copy.objects):
            copy.objects.unlink(obj)
            copy.objects.link(mark(obj.copy(), f"copied {obj.name}"))
    names = sorted(o.name for o in copy.objects)

    def check(step):
        copy = marked()["collection copy"]
        assert sorted(o.name for o in copy.objects) == names, step
        assert not copy.get(BUILD_TAG_KEYS[0]), f"{step}: the copy is no build"
        assert bpy.context.scene.collection.children.get(copy.name) == copy, step

    build(city)
    assert len(all_builds(bpy.context.scene)) == 1, "the copy is not taken for a build"
    every_step(city, tmp_path, check)


def test_a_users_object_in_the_build_collection_stays_in_the_scene(city, tmp_path):
    build(city)
    mine = mark(bpy.data.objects.new("my marker", None), "marker")
    the_build().objects.link(mine)

    build(city)
    assert list(marked()["marker"].users_collection) == [the_build()], "into the new build"
    remove_tagged_orphans(BUILD_TAG_KEYS)
    clear()
    assert [c.name for c in marked()["marker"].users_collection] == ["Scene Collection"]
    save_and_reload(tmp_path / "after.blend")
    assert [c.name for c in marked()["marker"].users_collection] == ["Scene Collection"]


def test_a_rig_parented_or_constrained_to_the_car_follows_the_new_car(city, tmp_path):
    build(city)
    scene = bpy.context.scene
    car = build_object("LeanRoute Car")
    rig = mark(bpy.data.objects.new("rig", None), "rig")
    scene.collection.objects.link(rig)
    rig.parent = car
    follower = mark(bpy.data.objects.new("follower", None), "follower")
    scene.collection.objects.link(follower)
    follower.constraints.new("CHILD_OF").target = car
    follower.constraints.new("COPY_LOCATION").target = car

    result = build(city)
    new_car = build_object("LeanRoute Car")
    assert marked()["rig"].parent == new_car
    assert "kept" not in " ".join(summary_lines(result.results)), "followed, nothing kept"
    assert [c.target for c in marked()["follower"].constraints] == [new_car, new_car]

    def check(step):
        rig, follower = marked()["rig"], marked()["follower"]
        assert rig.parent is not None, step
        assert rig.parent.users_collection, f"{step}: the parent would not be saved"
        targets = {c.target for c in follower.constraints}
        assert targets == {rig.parent}, step

    every_step(city, tmp_path, check)
    assert marked()["rig"].parent.animation_data.action is not None, "the kept car still drives"


def test_other_user_pointers_into_the_build_follow_it_or_keep_it(city, tmp_path):
    build(city)
    scene, collection, car = bpy.context.scene, the_build(), build_object("LeanRoute Car")
    other = mark(bpy.data.scenes.new("other scene"), "other scene")
    other.collection.children.link(collection)
    instancer = mark(bpy.data.objects.new("instancer", None), "instancer")
    scene.collection.objects.link(instancer)
    instancer.instance_type, instancer.instance_collection = "COLLECTION", collection
    arrayed = mark(bpy.data.objects.new("arrayed", bpy.data.meshes.new("arrayed")), "arrayed")
    scene.collection.objects.link(arrayed)
    arrayed.modifiers.new("Array", "ARRAY").offset_object = car
    driven = mark(bpy.data.objects.new("driven", None), "driven")
    scene.collection.objects.link(driven)
    driven.driver_add("location", 0).driver.variables.new().targets[0].id = car
    camera = mark(bpy.data.objects.new("my camera", bpy.data.cameras.new("my camera")), "cam")
    scene.collection.objects.link(camera)
    camera.data.dof.focus_object = car
    sub = mark(bpy.data.collections.new("my sub-collection"), "sub")
    collection.children.link(sub)
    sub.objects.link(mark(bpy.data.objects.new("in my sub-collection", None), "in sub"))
    node_material = mark(bpy.data.materials.new("by object"), "node material")
    if node_material.node_tree is None:  # Blender < 5.0 makes materials without nodes
        node_material.use_nodes = True
    node = node_material.node_tree.nodes.new("ShaderNodeTexCoord")
    node.object = build_object("LeanRoute Buildings")
    bpy.data.objects["Cube"].data.materials.append(node_material)

    def pointers():
        found = marked()
        return {
            "other scene": found["other scene"].collection.children[:],
            "instancer": found["instancer"].instance_collection,
            "arrayed": found["arrayed"].modifiers[0].offset_object,
            "driven": found["driven"].animation_data.drivers[0].driver.variables[0].targets[0].id,
            "cam": found["cam"].data.dof.focus_object,
            "node": found["node material"].node_tree.nodes["Texture Coordinate"].object,
        }

    build(city)
    new = pointers()
    assert new["other scene"] == [the_build()], "the other scene shows the new build"
    assert new["instancer"] == the_build()
    assert new["arrayed"] == new["driven"] == new["cam"] == build_object("LeanRoute Car")
    assert not is_ours(new["node"]), "a node's object has no counterpart: kept, the user's"
    assert [c.name for c in new["node"].users_collection] == ["Scene Collection"]
    assert the_build().children[:] == [marked()["sub"]], "into the new build"

    def check(step):
        assert all(value for value in pointers().values()), f"{step}: {pointers()}"
        assert marked()["in sub"].users_scene, step

    every_step(city, tmp_path, check)


def test_a_build_material_in_a_users_slot_stays_there(city, tmp_path):
    build(city)
    cube = mark(bpy.data.objects["Cube"], "cube")
    material = bpy.data.materials["LeanRoute building"]
    cube.data.materials.append(material)
    result = build(city)
    assert "kept: 1 data-block of the previous build that your data uses, now yours" in (
        summary_lines(result.results)
    )

    def check(step):
        slots = [slot.material for slot in marked()["cube"].material_slots]
        assert slots[-1] is not None and slots[-1].name == "LeanRoute building", step
        assert not is_ours(slots[-1]), step

    every_step(city, tmp_path, check)


def test_a_users_material_on_a_build_mesh_is_not_lost(city, tmp_path):
    build(city)
    mine = mark(bpy.data.materials.new("my paint"), "paint")
    build_object("LeanRoute Buildings").data.materials[0] = mine

    def check(step):
        assert "paint" in marked(), step

    every_step(city, tmp_path, check)
    assert marked()["paint"].use_fake_user, "kept with a fake user once nothing used it"


def test_a_user_object_sharing_the_buildings_mesh_keeps_it(city, tmp_path):
    build(city)
    mesh = build_object("LeanRoute Buildings").data
    mine = mark(bpy.data.objects.new("my buildings", mesh), "user object")
    bpy.context.scene.collection.objects.link(mine)
    vertices = len(mesh.vertices)

    def check(step):
        assert len(marked()["user object"].data.vertices) == vertices, step

    every_step(city, tmp_path, check)


@pytest.mark.parametrize(
    "handlers", ["frame_change_pre", "frame_change_post", "save_pre", "save_post"]
)
def test_data_a_users_handler_makes_during_a_build_is_the_users(city, tmp_path, handlers):
    made = []

    def handler(*_args):
        if not made:
            obj = mark(bpy.data.objects.new("made by a handler", None), "handler")
            bpy.context.scene.collection.objects.link(obj)
            made.append(obj.name)

    chain = getattr(bpy.app.handlers, handlers)
    chain.append(handler)
    try:
        build(city, out=tmp_path / "scene.blend")
        assert made, f"the {handlers} handler never ran during the build"
        assert not is_ours(marked()["handler"]), "not adopted by the stage it ran in"
        build(city, out=tmp_path / "scene.blend")
        assert "handler" in marked(), "a rebuild keeps it"
    finally:
        chain.remove(handler)
    clear()
    assert "handler" in marked()


def test_a_handler_object_linked_into_the_build_is_kept_by_a_failed_build(city, tmp_path):
    build(city)

    def handler(scene, *_args):
        if "made by a handler" not in bpy.data.objects:
            obj = mark(bpy.data.objects.new("made by a handler", None), "handler")
            bpy.data.collections["LeanRoute"].objects.link(obj)

    bpy.app.handlers.frame_change_post.append(handler)
    try:
        build(city)
        assert "handler" in marked()
        before = fingerprint()
        far = (city.waypoints[0], (city.waypoints[0][0] + 1.0, city.waypoints[0][1]))
        with pytest.raises(RouteError):
            build(city, waypoints=far)
        assert fingerprint() == before
    finally:
        bpy.app.handlers.frame_change_post.remove(handler)


def test_a_build_appended_from_another_file_is_the_users(city, tmp_path):
    build(city)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "yesterday.blend"))
    bpy.ops.wm.read_factory_settings(use_empty=False)
    with bpy.data.libraries.load(str(tmp_path / "yesterday.blend")) as (_, target):
        target.collections = ["LeanRoute"]
    appended = mark(target.collections[0], "appended city")
    bpy.context.scene.collection.children.link(appended)
    held = len(appended.objects)
    assert not all_builds(bpy.context.scene), "the user's, not a build of this file"

    def check(step):
        assert len(marked()["appended city"].objects) == held, step
        assert bpy.context.scene.collection.children.get("LeanRoute") is not None, step

    every_step(city, tmp_path, check)


def test_a_build_never_takes_a_name_from_the_users_data(city, tmp_path):
    # Blender 3.4 gives a taken name to the renamed data-block and renames the other one.
    mine = mark(bpy.data.objects.new("LeanRoute Car", None), "mine")
    bpy.context.scene.collection.objects.link(mine)
    theirs = mark(bpy.data.collections.new("LeanRoute"), "their collection")
    bpy.context.scene.collection.children.link(theirs)
    van = bpy.data.objects.new("Van", bpy.data.meshes.new("Van"))
    bpy.data.libraries.write(str(tmp_path / "cars.blend"), {van})
    bpy.data.objects.remove(van)
    for _ in range(2):
        build(city, car_blend=tmp_path / "cars.blend", car_object="Van")
        assert marked()["mine"].name == "LeanRoute Car"
        assert marked()["their collection"].name == "LeanRoute"
    clear()
    assert marked()["mine"].name == "LeanRoute Car"
    assert marked()["their collection"].name == "LeanRoute"


def test_a_renamed_build_object_is_the_users(city, tmp_path):
    build(city)
    renamed = mark(build_object("LeanRoute Ground"), "renamed")
    renamed.name = "my ground"

    def check(step):
        assert marked()["renamed"].name == "my ground", step

    every_step(city, tmp_path, check)


def test_ownership_survives_a_save_and_reload(city, tmp_path):
    build(city)
    per_build = tagged_count()
    save_and_reload(tmp_path / "first.blend")
    copy = mark(duplicate(build_object("LeanRoute Car")), "copy after reload")
    build(city)
    assert "copy after reload" in marked()
    assert tagged_count() == per_build, "the old build went completely, the copy is untagged"
    save_and_reload(tmp_path / "second.blend")
    build(city)
    assert tagged_count() == per_build
    assert marked()["copy after reload"].users_collection
    assert copy is not None


def test_copies_in_a_file_tagged_before_identities_are_the_users(city, tmp_path):
    build(city)
    per_build = tagged_count()
    for _, idb, _ in list(tagged_ids()):  # as an earlier LeanRoute tagged them: token only
        del idb[IDENTITY_KEY]
    copy = mark(duplicate(build_object("LeanRoute Buildings")), "copy")
    collection_copy = mark(the_build().copy(), "collection copy")
    bpy.context.scene.collection.children.link(collection_copy)
    held = len(collection_copy.objects)
    save_and_reload(tmp_path / "old.blend")
    assert len(all_builds(bpy.context.scene)) == 1, "the copied collection is no build"

    build(city)
    assert {"copy", "collection copy"} <= set(marked())
    assert len(marked()["collection copy"].objects) == held
    assert tagged_count() == per_build, "copies untagged, the old build replaced whole"
    clear()
    assert {"copy", "collection copy"} <= set(marked())
    assert tagged_count() == 0
    assert copy is not None


def test_clear_in_a_file_tagged_before_identities_keeps_the_copies(city, tmp_path):
    build(city)
    for _, idb, _ in list(tagged_ids()):
        del idb[IDENTITY_KEY]
    mark(duplicate(build_object("LeanRoute Buildings")), "copy")
    collection_copy = mark(the_build().copy(), "collection copy")
    bpy.context.scene.collection.children.link(collection_copy)
    save_and_reload(tmp_path / "old.blend")
    clear()
    assert {"copy", "collection copy"} <= set(marked())
    assert tagged_count() == 0, "the copies are plainly the user's"
    assert not all_builds(bpy.context.scene)


def test_repeated_rebuilds_with_user_links_do_not_pile_up(city):
    build(city)
    scene = bpy.context.scene
    rig = mark(bpy.data.objects.new("rig", None), "rig")
    scene.collection.objects.link(rig)
    rig.parent = build_object("LeanRoute Car")
    mine = mark(bpy.data.objects.new("mine", None), "mine")
    the_build().objects.link(mine)
    build(city)
    counts = {name: len(getattr(bpy.data, name)) for name in ("objects", "meshes", "materials")}
    tags = tagged_count()
    for _ in range(3):
        build(city)
    assert {name: len(getattr(bpy.data, name)) for name in counts} == counts
    assert tagged_count() == tags
    assert marked()["rig"].parent == build_object("LeanRoute Car")


def test_a_failed_build_leaves_user_links_into_the_build_as_they_were(city):
    build(city)
    scene = bpy.context.scene
    rig = mark(bpy.data.objects.new("rig", None), "rig")
    scene.collection.objects.link(rig)
    rig.parent = build_object("LeanRoute Car")
    the_build().objects.link(mark(bpy.data.objects.new("mine", None), "mine"))
    before = fingerprint()
    far = (city.waypoints[0], (city.waypoints[0][0] + 1.0, city.waypoints[0][1]))
    with pytest.raises(RouteError):
        build(city, waypoints=far)
    assert fingerprint() == before
    assert marked()["rig"].parent == build_object("LeanRoute Car")


def test_remove_build_orphans_spares_a_copy_that_is_an_orphan(city):
    build(city)
    copy = mark(build_object("LeanRoute Roads").data.copy(), "orphan copy")
    assert copy.users == 0 and owner_token(copy) is not None
    remove_tagged_orphans(BUILD_TAG_KEYS)
    assert "orphan copy" in marked()
    assert owner_token(marked()["orphan copy"]) is None, "the inherited tag is gone"


def test_the_batch_runner_clear_keeps_a_users_object_in_the_build(city, tmp_path):
    from leanroute.batch.job_runner import JobRunner

    result = build(city)
    the_build().objects.link(mark(bpy.data.objects.new("mine", None), "mine"))
    JobRunner().clear(result.collection)
    assert [c.name for c in marked()["mine"].users_collection] == ["Scene Collection"]
    assert not all_builds(bpy.context.scene)


def test_the_clear_and_orphan_buttons_spare_the_users_data(addon_scene, city):
    build(city)
    copy = mark(duplicate(build_object("LeanRoute Buildings")), "copy")
    rig = mark(bpy.data.objects.new("rig", None), "rig")
    addon_scene.collection.objects.link(rig)
    rig.parent = build_object("LeanRoute Car")
    assert bpy.ops.leanroute.remove_build_orphans() == {"FINISHED"}
    assert bpy.ops.leanroute.clear() == {"FINISHED"}
    assert {"copy", "rig"} <= set(marked())
    assert marked()["copy"].users_collection
    assert marked()["rig"].parent is not None and marked()["rig"].parent.users_collection
    assert not all_builds(addon_scene)
    assert copy is not None
