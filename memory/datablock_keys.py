"""Session identity keys of data-blocks and where they live in ``bpy.data``.

A key is ``ID.session_uid`` where Blender has it (4.x+: unique for the process, never
reused), else the memory address (3.x). Keys are never kept across a file load.
"""

import bpy

#: ``(bpy.data collection name, id_key)``: refers to a data-block without holding it.
Ref = tuple[str, int]

_HAS_SESSION_UID = "session_uid" in bpy.types.ID.bl_rna.properties.keys()  # noqa: SIM118

# Data-block types (and their subclasses: lights, node trees, textures) -> bpy.data collection.
# By type, not ID.id_type: Blender 3.4 lacks id_type on some types (collections).
_COLLECTIONS = (
    ("Action", "actions"),
    ("Armature", "armatures"),
    ("Brush", "brushes"),
    ("CacheFile", "cache_files"),
    ("Camera", "cameras"),
    ("Collection", "collections"),
    ("Curve", "curves"),
    ("Curves", "hair_curves"),
    ("VectorFont", "fonts"),
    ("GreasePencilv3", "grease_pencils_v3"),
    ("GreasePencil", "grease_pencils"),
    ("Image", "images"),
    ("Key", "shape_keys"),
    ("Lattice", "lattices"),
    ("Library", "libraries"),
    ("Light", "lights"),
    ("LightProbe", "lightprobes"),
    ("FreestyleLineStyle", "linestyles"),
    ("Mask", "masks"),
    ("Material", "materials"),
    ("Mesh", "meshes"),
    ("MetaBall", "metaballs"),
    ("MovieClip", "movieclips"),
    ("NodeTree", "node_groups"),
    ("Object", "objects"),
    ("PaintCurve", "paint_curves"),
    ("Palette", "palettes"),
    ("ParticleSettings", "particles"),
    ("PointCloud", "pointclouds"),
    ("Scene", "scenes"),
    ("Screen", "screens"),
    ("Sound", "sounds"),
    ("Speaker", "speakers"),
    ("Text", "texts"),
    ("Texture", "textures"),
    ("Volume", "volumes"),
    ("WindowManager", "window_managers"),
    ("WorkSpace", "workspaces"),
    ("World", "worlds"),
)
_TYPES = tuple(
    (kind, name)
    for type_name, name in _COLLECTIONS
    if (kind := getattr(bpy.types, type_name, None)) is not None
)


def id_key(idb: "bpy.types.ID") -> int:
    """The identity of a data-block for this session (see the module's docstring)."""
    return idb.session_uid if _HAS_SESSION_UID else idb.as_pointer()


def collection_name(idb: "bpy.types.ID") -> str:
    """The ``bpy.data`` collection *idb* belongs to (``"objects"``, ``"meshes"``, ...)."""
    for kind, name in _TYPES:
        if isinstance(idb, kind):
            return name
    return type(idb).__name__.lower() + "s"


def ref(idb: "bpy.types.ID") -> Ref:
    """A :data:`Ref` to *idb*."""
    return collection_name(idb), id_key(idb)
