# SPDX-License-Identifier: GPL-3.0-or-later
"""Clear: remove everything a LeanRoute build made, and what the scene had before it."""

from collections import Counter

import bpy

from ..memory.datablock_owner import remove_tagged_orphans
from ..memory.units import format_count_by_type
from ..route.build_collection import (
    BUILD_TAG_KEYS,
    all_builds,
    remove_build,
    restore_scene_before,
)
from .poll import not_building


class LEANROUTE_OT_clear(bpy.types.Operator):
    """Remove the LeanRoute build from the scene"""

    bl_description = (
        "Remove the LeanRoute build from the scene: its collection, objects, meshes, "
        "curves, materials and actions, leaving no orphans; the frame range, frame rate "
        "and camera go back to what they were before the first build. Your own objects "
        "in its collection move to the scene's collection, and what your data still uses "
        "(a copy, a shared mesh, a material, a parent) is kept as yours"
    )

    bl_idname = "leanroute.clear"
    bl_label = "Clear Build"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if context.scene is None or not not_building(cls, context):
            return False
        if not all_builds(context.scene):
            cls.poll_message_set("There is no LeanRoute build in this scene")
            return False
        return True

    def execute(self, context):
        scene = context.scene
        removed: Counter[str] = Counter()
        restored = False
        for collection in all_builds(scene):
            restored = restore_scene_before(scene, collection) or restored
            removed.update(remove_build(collection, scene=scene))
        # Orphans of earlier builds (e.g. left by a build without hygiene) go too.
        removed.update(remove_tagged_orphans(BUILD_TAG_KEYS))
        note = "; frame range and camera restored" if restored else ""
        self.report({"INFO"}, f"LeanRoute build cleared: {format_count_by_type(removed)}{note}")
        return {"FINISHED"}
