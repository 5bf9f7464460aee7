"""Ownership by session identity (Blender 4.x+: ID.session_uid); module lane only.

Blender 3.x has no session_uid, so there the owner keys data-blocks by address and a
data-block created at the address of one freed in the same stage is not seen as created.
"""

import bpy
import pytest

from leanroute.memory import Pipeline

pytestmark = pytest.mark.usefixtures("factory_scene")


def test_a_data_block_at_a_reused_address_is_still_seen_as_created():
    users_mesh = bpy.data.meshes.new("users mesh")
    address = users_mesh.as_pointer()
    pipeline = Pipeline("reuse")
    with pytest.raises(RuntimeError), pipeline.stage("reuse") as reuse:
        bpy.data.meshes.remove(users_mesh)
        made = bpy.data.meshes.new("made by the stage")
        reused = made.as_pointer() == address
        raise RuntimeError("roll back")
    assert "made by the stage" not in bpy.data.meshes
    assert reuse.report.rollback.removed == {"meshes": 1}
    assert reused, "the allocator did not reuse the address: this test proves nothing"
