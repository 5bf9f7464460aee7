"""Session identity keys of data-blocks and where they live in ``bpy.data``.

A key is ``ID.session_uid`` where Blender has it (4.x+: unique for the process, never
reused), else the memory address (3.x). Keys are never kept across a file load.
"""

import bpy

#: ``(bpy.data collection name, id_key)``: refers to a data-block without holding it.
Ref = tuple[str, int]

_HAS_SESSION_UID = "session_uid" in bpy.types.ID.bl_rna.properties.keys()  # noqa: SIM118

# ID.id_type -> its bpy.data collection.
_COLLECTIONS = {
    "ACTION": "actions",
    "ARMATURE": "armatures",
    "BRUSH": "brushes",
    "CACHEFILE": "cache_files",
    "CAMERA": "cameras",
    "COLLECTION": "collections",
    "CURVE": "curves",
    "CURVES": "hair_curves",
    "FONT": "fonts",
    "GREASEPENCIL": "grease_pencils",
    "GREASEPENCIL_V3": "grease_pencils_v3",
    "IMAGE": "images",
    "KEY": "shape_keys",
    "LATTICE": "lattices",
    "LIBRARY": "libraries",
    "LIGHT": "lights",
    "LIGHT_PROBE": "lightprobes",
    "LINESTYLE": "linestyles",
    "MASK": "masks",
    "MATERIAL": "materials",
    "MESH": "meshes",
    "META": "metaballs",
    "MOVIECLIP": "movieclips",
    "NODETREE": "node_groups",
    "OBJECT": "objects",
    "PAINTCURVE": "paint_curves",
    "PALETTE": "palettes",
    "PARTICLE": "particles",
    "POINTCLOUD": "pointclouds",
    "SCENE": "scenes",
    "SCREEN": "screens",
    "SOUND": "sounds",
    "SPEAKER": "speakers",
    "TEXT": "texts",
    "TEXTURE": "textures",
    "VOLUME": "volumes",
    "WINDOWMANAGER": "window_managers",
    "WORKSPACE": "workspaces",
    "WORLD": "worlds",
}


def id_key(idb: "bpy.types.ID") -> int:
    """The identity of a data-block for this session (see the module's docstring)."""
    return idb.session_uid if _HAS_SESSION_UID else idb.as_pointer()


def collection_name(idb: "bpy.types.ID") -> str:
    """The ``bpy.data`` collection *idb* belongs to (``"objects"``, ``"meshes"``, ...)."""
    return _COLLECTIONS.get(idb.id_type, idb.id_type.lower() + "s")


def ref(idb: "bpy.types.ID") -> Ref:
    """A :data:`Ref` to *idb*."""
    return collection_name(idb), id_key(idb)
