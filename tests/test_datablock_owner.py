"""Ownership by session identity (Blender 4.x+: ID.session_uid); module lane only.

Blender 3.x has no session_uid, so there the owner keys data-blocks by address and a
data-block created at the address of one freed in the same stage is not seen as created.
"""

import bpy
import pytest

from leanroute.memory import Pipeline

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
