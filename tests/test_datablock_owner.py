"""Identity by ID.session_uid (Blender 4.x+), for ownership and BMesh scopes; module lane only.

Blender 3.x has no session_uid, so there data-blocks are keyed by address: one created at
the address of one freed meanwhile is taken for it.
"""

import bpy
import pytest
from helpers.user_edits import build, build_object, duplicate, mark, marked

from leanroute.memory import MeshRemovedError, Pipeline, bmesh_from_mesh
from leanroute.memory.datablock_identity import is_ours
from leanroute.route.sample_city import write_sample_city

pytestmark = pytest.mark.usefixtures("factory_scene")


def test_a_data_block_at_a_reused_address_is_still_seen_as_created():
    users_meshes = [bpy.data.meshes.new(f"users mesh {index}") for index in range(50)]
    freed = {mesh.as_pointer() for mesh in users_meshes}
    pipeline = Pipeline("reuse")
    with pytest.raises(RuntimeError), pipeline.stage("reuse") as reuse:
        bpy.data.batch_remove(users_meshes)
        made = [bpy.data.meshes.new(f"made by the stage {index}") for index in range(50)]
        # The allocator hands freed blocks back, though not always in the same order.
        reused = sum(mesh.as_pointer() in freed for mesh in made)
        raise RuntimeError("roll back")
    assert reused, "no address was reused: this test proves nothing"
    assert not any(m.name.startswith("made by the stage") for m in bpy.data.meshes)
    assert reuse.report.rollback.removed == {"meshes": 50}


def test_a_scope_does_not_write_back_into_a_new_mesh_of_the_same_name():
    mesh = bpy.data.meshes.new("temporary")
    with pytest.raises(MeshRemovedError), bmesh_from_mesh(mesh, write_back=True) as bm:
        bpy.data.meshes.remove(mesh)
        bpy.data.meshes.new("temporary")  # often at the freed address, too
        bm.verts.new((0, 0, 0))
    assert len(bpy.data.meshes["temporary"].vertices) == 0


def test_a_copy_renamed_to_its_deleted_originals_name_is_still_the_users(tmp_path):
    # In one session the copy's session_uid is not the one its inherited identity records.
    city = write_sample_city(tmp_path / "small.osm", buildings=20)
    build(city)
    original = build_object("LeanRoute Ground")
    copy = mark(duplicate(original), "impostor")
    bpy.data.objects.remove(original)
    copy.name = "LeanRoute Ground"
    build(city)
    assert "impostor" in marked(), "the copy is not taken for the build's object"
    assert not is_ours(marked()["impostor"])
