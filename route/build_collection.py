"""The ``LeanRoute`` collection of one build, and replacing a previous build completely.

A build is recognised by a token stored on its collection (``leanroute_build``); every
data-block the build made carries the same token as its ``leanroute_owner`` tag (written by
memory/'s DataBlockOwner) with its own identity, so a user's copy of the collection or of
any data-block in it (which inherits the tags) is never taken for the build
(:mod:`..memory.datablock_identity`). Removing a build never takes the user's data or links
with it (:mod:`..memory.datablock_release`): a user's object in the build's collection moves
to the new build's collection (or the scene's), a user's rig parented to the car follows the
new car, and build data a user's data still uses (a shared mesh, a material in a user's
slot, an object in a user's collection) is kept, untagged. Nothing is kept in module state,
so this works after undo, file load and in a new session.
"""

import json
import re

import bpy

from ..memory.blender_stats import id_collections
from ..memory.datablock_identity import (
    Ownership,
    copies,
    identity_name,
    owner_token,
    restamp,
)
from ..memory.datablock_keys import collection_name
from ..memory.datablock_release import Release

BUILD_KEY = "leanroute_build"
#: (lat, lon) of the build's map projection centre: turns scene metres back into lat/lon.
ORIGIN_KEY = "leanroute_origin"
#: JSON of the scene settings (frame range, fps, camera) from before the first build.
SCENE_BEFORE_KEY = "leanroute_scene_before"
#: Build properties a data-block loses when the user adopts it (with the owner tag).
BUILD_TAG_KEYS = (BUILD_KEY, ORIGIN_KEY, SCENE_BEFORE_KEY)

_SUFFIX = re.compile(r"\.\d{3,}$")


def all_builds(scene: "bpy.types.Scene") -> list["bpy.types.Collection"]:
    """Every LeanRoute build collection linked in *scene*, whatever its name.

    A user's copy of a build collection (it inherits the build's properties) is not one.
    """
    ownership = Ownership()
    return [
        child
        for child in scene.collection.children
        if child.get(BUILD_KEY) and ownership.ours(child)
    ]


def previous_builds(scene: "bpy.types.Scene", name: str) -> list["bpy.types.Collection"]:
    """Collections of earlier builds named *name* (or ``name.001`` …) linked in *scene*."""
    return [child for child in all_builds(scene) if base_name(child.name) == name]


def base_name(name: str) -> str:
    """*name* without Blender's ``.001``-style suffix."""
    return _SUFFIX.sub("", name)


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
    """Every data-block the build *token* made (never a copy), with its ``bpy.data`` collection."""
    found = {}
    ownership = Ownership()
    for kind in id_collections():
        for idb in getattr(bpy.data, kind):
            if owner_token(idb) == token and ownership.ours(idb):
                found[idb] = kind
    return found


def build_removal(
    collections: "list[bpy.types.Collection]",
    *,
    scene: "bpy.types.Scene | None" = None,
    successor: "bpy.types.Collection | None" = None,
    objects_only: bool = False,
) -> Release:
    """The (not yet prepared) removal of the builds *collections*.

    Everything each build made goes (with *objects_only*, only its objects and collection:
    the no-hygiene baseline, which leaves their data as orphans). A user's object in a
    build's collection moves to *successor* (a rebuild) or to *scene*'s collection (Clear);
    a user's pointer to a build object (a parent, a constraint target) is pointed at the
    object of the same name in *successor*; build data user data still uses is kept.
    """
    victims: list[bpy.types.ID] = []
    for collection in collections:
        token = owner_token(collection) or collection.get(BUILD_KEY)
        made = build_datablocks(str(token)) if token else {}
        if objects_only:
            made = {idb: kind for idb, kind in made.items() if kind == "objects"}
        victims += [*made, collection]
    successor_name = successor.name if successor is not None else None
    scene_name = scene.name if scene is not None else None

    def relocate(_collection):
        if successor_name is not None:
            return bpy.data.collections.get(successor_name)
        return bpy.data.scenes[scene_name].collection if scene_name else None

    removal = Release(
        victims,
        home_scenes=[scene] if scene is not None else None,
        relocate=relocate,
        counterpart=_counterparts(successor) if successor is not None else None,
        tag_keys=BUILD_TAG_KEYS,
    )
    # While the build still exists its copies are told apart best (see datablock_identity):
    # they lose the tags they inherited now (journalled: a failed rebuild puts them back).
    for copy in copies():
        removal.disown(copy)
    return removal


def _counterparts(successor: "bpy.types.Collection"):
    """The successor's data-block standing in for a replaced one (same base name), if any."""
    name = successor.name
    ownership = Ownership()

    def counterpart(idb):
        new = bpy.data.collections.get(name)
        if new is None or isinstance(idb, bpy.types.Collection):
            return new
        role = base_name(identity_name(idb) or idb.name)
        for obj in new.all_objects:
            if ownership.ours(obj) and base_name(obj.name) == role:
                return obj
        return None

    return counterpart


def remove_build(
    collection: "bpy.types.Collection",
    *,
    scene: "bpy.types.Scene | None" = None,
    successor: "bpy.types.Collection | None" = None,
) -> dict[str, int]:
    """Remove a build completely: its collection, objects, meshes, curves, materials, actions.

    Returns how many data-blocks of each type went; nothing becomes an orphan. The user's
    data and links survive (see :func:`build_removal`).
    """
    return build_removal([collection], scene=scene, successor=successor).remove()


def remove_build_objects(
    collection: "bpy.types.Collection",
    *,
    scene: "bpy.types.Scene | None" = None,
    successor: "bpy.types.Collection | None" = None,
) -> dict[str, int]:
    """Remove only a build's objects and collection, the way a plain script deletes them.

    Meshes, curves, materials and actions are left behind as orphans: this is the
    no-hygiene baseline that benchmarks and leak checks compare against. The user's
    objects in the collection are kept in the scene.
    """
    removal = build_removal([collection], scene=scene, successor=successor, objects_only=True)
    return removal.remove()


def rename_to_free(idb: "bpy.types.ID", name: str) -> None:
    """Name *idb* *name*, or the first free ``name.001``…, never taking a name in use.

    Blender 3.4 gives a taken name to the data-block renamed and renames the one holding
    it (a user's, or a previous build's), so LeanRoute never assigns a name in use.
    """
    existing = getattr(bpy.data, collection_name(idb))
    if idb.name == name or existing.get(name) is None:
        idb.name = name
        return
    number = 1
    while existing.get(f"{name}.{number:03d}") not in (None, idb):
        number += 1
    idb.name = f"{name}.{number:03d}"


def settle_names(collection: "bpy.types.Collection", name: str) -> None:
    """Give a build and its objects their base names once the previous build is gone.

    Only the build's own data-blocks are renamed (a user's object in the collection keeps
    its name), and each keeps its identity under the new name.
    """
    ownership = Ownership()
    # Only a free name: Blender 3.4 would rename the user's data-block holding it instead.
    if collection.name != name and name not in bpy.data.collections:
        rename_to_free(collection, name)
    if owner_token(collection) is not None:
        restamp(collection)
    for obj in collection.all_objects:
        if not ownership.ours(obj):
            continue
        base = base_name(obj.name)
        if base != obj.name and base not in bpy.data.objects:
            obj.name = base
        restamp(obj)
