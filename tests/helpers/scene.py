"""Scene helpers for memory tests: a fresh factory scene and a fingerprint of everything."""

import gc

import bmesh
import bpy

from leanroute.memory.blender_stats import id_collections
from leanroute.memory.heap_trim import return_memory_to_os
from leanroute.memory.process_memory import rss_bytes


def factory_scene() -> None:
    """Reset Blender to its factory startup file (cube, camera, light)."""
    bpy.ops.wm.read_factory_settings(use_empty=False)


def fingerprint() -> dict:
    """Every data-block by type and name, with what links them: equal means same scene."""
    data = {name: sorted(idb.name for idb in getattr(bpy.data, name)) for name in id_collections()}
    data.pop("window_managers", None)
    data.pop("screens", None)
    data.pop("workspaces", None)
    scene = bpy.context.scene
    data["links"] = sorted(
        (ob.name, tuple(sorted(c.name for c in ob.users_collection)), ob.data and ob.data.name)
        for ob in bpy.data.objects
    )
    data["children"] = sorted(
        (c.name, tuple(sorted(ch.name for ch in c.children))) for c in bpy.data.collections
    )
    data["scene"] = (scene.name, scene.frame_start, scene.frame_end, scene.camera.name)
    data["materials"] = sorted(
        (me.name, tuple(m.name for m in me.materials if m)) for me in bpy.data.meshes
    )
    return data


def settled_rss() -> int:
    """RSS after a collection and a heap trim: the figure to compare across a loop."""
    gc.collect()
    return_memory_to_os()
    return rss_bytes()


def big_bmesh(segments: int = 120):
    """A new BMesh with a grid of segments x segments faces (about 10 MiB at 120)."""
    bm = bmesh.new()
    fill_grid(bm, segments)
    return bm


def fill_grid(bm, segments: int = 120) -> None:
    """Fill *bm* with a grid."""
    bmesh.ops.create_grid(bm, x_segments=segments, y_segments=segments, size=1.0)
