"""What a user does to a LeanRoute scene between builds, done the way Blender does it.

Shared by the ownership tests and their random-edit attack. Every data-block a user edit
makes or copies gets the ``test_user_id`` property, so a test can find it again (also after
a save and reload) and check it was not lost.
"""

import bpy

from leanroute.memory.datablock_identity import Ownership, tagged_ids
from leanroute.route.build import SceneBuild
from leanroute.route.build_collection import (
    BUILD_TAG_KEYS,
    all_builds,
    remove_build,
    restore_scene_before,
)
from leanroute.route.settings import BuildSettings

USER_ID = "test_user_id"


def settings_for(city, **changes) -> BuildSettings:
    """Build settings for the sample *city* (no output unless given)."""
    settings = BuildSettings(osm=city.path, waypoints=city.waypoints)
    return settings.but(**changes) if changes else settings


def build(city, **changes):
    """Build (or rebuild) the sample *city* in the current scene."""
    return SceneBuild(settings_for(city, **changes)).run()


def clear(scene=None) -> None:
    """What the Clear button does (without the add-on registered)."""
    from leanroute.memory.datablock_owner import remove_tagged_orphans

    scene = scene or bpy.context.scene
    for collection in all_builds(scene):
        restore_scene_before(scene, collection)
        remove_build(collection, scene=scene)
    remove_tagged_orphans(BUILD_TAG_KEYS)


def mark(idb, label: str):
    """Give *idb* the user-data label *label*; returns it."""
    idb[USER_ID] = label
    return idb


def marked() -> dict[str, "bpy.types.ID"]:
    """Every data-block with a user-data label, by label."""
    found = {}
    for name in ("objects", "meshes", "materials", "collections", "curves", "actions", "scenes"):
        for idb in getattr(bpy.data, name):
            label = idb.get(USER_ID)
            if label is not None:
                found[label] = idb
    return found


def duplicate(obj, *, linked: bool = False) -> "bpy.types.Object":
    """Shift+D (or Alt+D with *linked*) on *obj*: the copy lands in *obj*'s collections."""
    view_layer = bpy.context.view_layer
    for other in view_layer.objects:
        other.select_set(False)
    obj.hide_set(False)
    obj.select_set(True)
    view_layer.objects.active = obj
    before = set(bpy.data.objects)
    with bpy.context.temp_override(
        active_object=obj, selected_objects=[obj], selected_editable_objects=[obj]
    ):
        bpy.ops.object.duplicate(linked=linked)
    (copy,) = set(bpy.data.objects) - before
    return copy


def build_object(name: str) -> "bpy.types.Object":
    """The current build's object whose base name is *name* (``LeanRoute Car``, ...)."""
    scene = bpy.context.scene
    ownership = Ownership()
    for collection in all_builds(scene):
        for obj in collection.all_objects:
            if ownership.ours(obj) and obj.name.split(".")[0] == name:
                return obj
    raise LookupError(f"no {name} in the build")


def tagged_count() -> int:
    """How many data-blocks carry a LeanRoute tag (ours or not)."""
    return sum(1 for _ in tagged_ids())


def save_and_reload(path) -> None:
    """Save the session to *path* and open it again, as a user closing Blender would."""
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.open_mainfile(filepath=str(path), load_ui=False)
