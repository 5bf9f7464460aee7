"""Blender's own memory figures: the allocator count, data-block counts, undo settings.

Main thread only: these read ``bpy``.
"""

import bpy

from .allocator_text import parse_statistics_memory

# Every ID collection of bpy.data that exists in some supported Blender (3.4 - 5.x).
ID_COLLECTIONS = (
    "actions",
    "armatures",
    "brushes",
    "cache_files",
    "cameras",
    "collections",
    "curves",
    "fonts",
    "grease_pencils",
    "grease_pencils_v3",
    "hair_curves",
    "images",
    "lattices",
    "libraries",
    "lightprobes",
    "lights",
    "linestyles",
    "masks",
    "materials",
    "meshes",
    "metaballs",
    "movieclips",
    "node_groups",
    "objects",
    "paint_curves",
    "palettes",
    "particles",
    "pointclouds",
    "scenes",
    "screens",
    "sounds",
    "speakers",
    "texts",
    "textures",
    "volumes",
    "window_managers",
    "workspaces",
    "worlds",
)


#: Collections whose data-blocks are never orphans worth removing: UI data and libraries.
NEVER_ORPHANS = frozenset({"libraries", "screens", "window_managers", "workspaces"})


def id_collections() -> tuple[str, ...]:
    """The ID collection names this Blender has."""
    return tuple(name for name in ID_COLLECTIONS if hasattr(bpy.data, name))


def blender_allocated_bytes() -> "int | None":
    """Memory held by Blender's allocator now, as its status bar shows it."""
    context = bpy.context
    scene = getattr(context, "scene", None) or (bpy.data.scenes[0] if bpy.data.scenes else None)
    if scene is None:
        return None
    view_layer = getattr(context, "view_layer", None)
    if view_layer is None or view_layer.id_data != scene:
        view_layer = scene.view_layers[0] if scene.view_layers else None
    if view_layer is None:
        return None
    return parse_statistics_memory(scene.statistics(view_layer))


def datablock_counts() -> dict[str, int]:
    """Number of data-blocks of each type (types with none are left out)."""
    counts = {}
    for name in id_collections():
        count = len(getattr(bpy.data, name))
        if count:
            counts[name] = count
    return counts


def orphan_counts() -> dict[str, int]:
    """Data-blocks with no users and no fake user, by type (what a purge would consider)."""
    counts = {}
    for name in id_collections():
        if name in NEVER_ORPHANS or name == "scenes":  # a purge never removes a scene
            continue
        count = sum(1 for idb in getattr(bpy.data, name) if idb.users == 0)
        if count:
            counts[name] = count
    return counts


def undo_settings() -> dict:
    """Undo limits from the preferences (Blender exposes no figure of undo memory in use)."""
    edit = bpy.context.preferences.edit
    return {
        "undo_steps": edit.undo_steps,
        "undo_memory_limit_mb": edit.undo_memory_limit,
        "global_undo": edit.use_global_undo,
    }
