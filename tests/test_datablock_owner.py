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
    made, reused = [], False
    with pytest.raises(RuntimeError), pipeline.stage("reuse") as reuse:
        bpy.data.meshes.remove(users_mesh)
        # The allocator hands a freed block back soon, but not always to the next request.
        for index in range(200):
            made.append(bpy.data.meshes.new(f"made by the stage {index}"))
            if made[-1].as_pointer() == address:
                reused = True
                break
        raise RuntimeError("roll back")
    assert reused, "no address reuse: this test proves nothing"
    assert not any(m.name.startswith("made by the stage") for m in bpy.data.meshes)
    assert reuse.report.rollback.removed == {"meshes": len(made)}
