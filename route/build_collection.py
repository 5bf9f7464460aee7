"""The ``LeanRoute`` collection of one build, and replacing a previous build completely.

A build is recognised by a token stored on its collection (``leanroute_build``); every
data-block the build made carries the same token as its ``leanroute_owner`` tag (written by
memory/'s DataBlockOwner). Nothing is kept in module state, so this works after undo, file
load and in a new session.
"""

from collections import Counter

import bpy

from ..memory.blender_stats import id_collections
from ..memory.datablock_owner import OWNER_KEY

BUILD_KEY = "leanroute_build"


def previous_builds(scene: "bpy.types.Scene", name: str) -> list["bpy.types.Collection"]:
    """Collections of earlier builds named *name* (or ``name.001`` …) linked in *scene*."""
    return [
        child
        for child in scene.collection.children
        if child.get(BUILD_KEY) and (child.name == name or child.name.startswith(name + "."))
    ]


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
