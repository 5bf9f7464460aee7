"""The ``LeanRoute`` collection of one build, and replacing a previous build completely.

A build is recognised by a token stored on its collection (``leanroute_build``); every
data-block the build made carries the same token as its ``leanroute_owner`` tag (written by
memory/'s DataBlockOwner). Nothing is kept in module state, so this works after undo, file
load and in a new session.
"""

import json
from collections import Counter

import bpy

from ..memory.blender_stats import id_collections
from ..memory.datablock_owner import OWNER_KEY

BUILD_KEY = "leanroute_build"
#: (lat, lon) of the build's map projection centre: turns scene metres back into lat/lon.
ORIGIN_KEY = "leanroute_origin"
#: JSON of the scene settings (frame range, fps, camera) from before the first build.
SCENE_BEFORE_KEY = "leanroute_scene_before"


def all_builds(scene: "bpy.types.Scene") -> list["bpy.types.Collection"]:
    """Every LeanRoute build collection linked in *scene*, whatever its name."""
    return [child for child in scene.collection.children if child.get(BUILD_KEY)]


def previous_builds(scene: "bpy.types.Scene", name: str) -> list["bpy.types.Collection"]:
    """Collections of earlier builds named *name* (or ``name.001`` …) linked in *scene*."""
    return [
        child
        for child in all_builds(scene)
        if child.name == name or child.name.startswith(name + ".")
    ]


def latest_build(scene: "bpy.types.Scene") -> "bpy.types.Collection | None":
    """The build collection that has a projection origin (the newest one wins)."""
    builds = [child for child in all_builds(scene) if child.get(ORIGIN_KEY) is not None]
    return builds[-1] if builds else None


def record_build_origin(collection: "bpy.types.Collection", lat0: float, lon0: float) -> None:
    """Store the projection centre on the build, so scene points can be turned into lat/lon."""
    collection[ORIGIN_KEY] = [float(lat0), float(lon0)]


def build_origin(collection: "bpy.types.Collection") -> "tuple[float, float] | None":
    """The (lat, lon) projection centre stored by :func:`record_build_origin`, or None."""
    origin = collection.get(ORIGIN_KEY)
    return (float(origin[0]), float(origin[1])) if origin is not None else None


def record_scene_before(
    collection: "bpy.types.Collection", scene: "bpy.types.Scene", name: str, settings: dict
) -> None:
    """Keep the scene settings from before the first build on the build's collection.

    A rebuild carries the previous build's record over, so Clear restores what the user
    had before LeanRoute touched the scene, not what the previous build set.
    """
    earlier = [c.get(SCENE_BEFORE_KEY) for c in previous_builds(scene, name) if c != collection]
    earlier = [text for text in earlier if text]
    collection[SCENE_BEFORE_KEY] = earlier[0] if earlier else json.dumps(settings)


def restore_scene_before(scene: "bpy.types.Scene", collection: "bpy.types.Collection") -> bool:
    """Put back the frame range, fps and camera recorded on *collection*; True if it did."""
    text = collection.get(SCENE_BEFORE_KEY)
    if not text:
        return False
    apply_scene_settings(scene, json.loads(text))
    return True


def apply_scene_settings(scene: "bpy.types.Scene", saved: dict) -> None:
    """Set the frame range, fps and camera (by name; None if it is gone) from *saved*."""
    scene.frame_start, scene.frame_end = saved["frame_start"], saved["frame_end"]
    scene.render.fps, scene.render.fps_base = saved["fps"], saved["fps_base"]
    camera = saved.get("camera")
    scene.camera = bpy.data.objects.get(camera) if camera else None


def new_build_collection(scene: "bpy.types.Scene", name: str, token: str) -> "bpy.types.Collection":
    """A new collection for a build, linked to *scene*, marked with the build's *token*."""
    collection = bpy.data.collections.new(name)
    collection[BUILD_KEY] = token
    scene.collection.children.link(collection)
    return collection


def build_datablocks(token: str) -> dict["bpy.types.ID", str]:
    """Every data-block tagged as made by the build *token*, with its ``bpy.data`` collection."""
    found = {}
    for collection_name in id_collections():
        for idb in getattr(bpy.data, collection_name):
            try:
                if token in (idb.get(OWNER_KEY), idb.get(BUILD_KEY)):
                    found[idb] = collection_name
            except TypeError:  # ID types without custom properties
                continue
    return found


def remove_build(collection: "bpy.types.Collection") -> dict[str, int]:
    """Remove a build completely: its collection, objects, meshes, curves, materials, actions.

    Returns how many data-blocks of each type went; nothing becomes an orphan.
    """
    token = collection.get(BUILD_KEY)
    victims = build_datablocks(token) if token else {}
    victims.setdefault(collection, "collections")
    removed = dict(Counter(victims.values()))
    bpy.data.batch_remove(list(victims))
    return removed


def remove_build_objects(collection: "bpy.types.Collection") -> dict[str, int]:
    """Remove only a build's objects and collection, the way a plain script deletes them.

    Meshes, curves, materials and actions are left behind as orphans: this is the
    no-hygiene baseline that benchmarks and leak checks compare against.
    """
    objects = list(collection.all_objects)
    removed = {"objects": len(objects), "collections": 1}
    bpy.data.batch_remove([*objects, collection])
    return removed


def settle_names(collection: "bpy.types.Collection", name: str) -> None:
    """Give a build and its objects their base names once the previous build is gone."""
    collection.name = name
    for obj in collection.all_objects:
        base = obj.name.rsplit(".", 1)[0] if obj.name[-4:-3] == "." else obj.name
        if base != obj.name and base not in bpy.data.objects:
            obj.name = base
