# SPDX-License-Identifier: GPL-3.0-or-later
"""Save As: write the scene with its build to a .blend, atomically."""

from pathlib import Path

import bpy
from bpy_extras.io_utils import ExportHelper

from ..route.atomic_files import check_writable
from ..route.blend_save import save_blend_atomic
from ..route.build_collection import all_builds
from ..route.errors import describe
from .poll import not_building


class LEANROUTE_OT_save_as(bpy.types.Operator, ExportHelper):
    """Save the scene with its route build as a .blend file"""

    bl_description = (
        "Save the scene with its route build as a .blend file. It is written under a "
        "temporary name and renamed, so a failed save never leaves a broken file; the "
        "open file stays as it is"
    )

    bl_idname = "leanroute.save_as"
    bl_label = "Save As…"
    bl_options = {"REGISTER"}

    filename_ext = ".blend"
    filter_glob: bpy.props.StringProperty(default="*.blend", options={"HIDDEN"})

    @classmethod
    def poll(cls, context):
        if not not_building(cls, context):
            return False
        if context.scene is None or not all_builds(context.scene):
            cls.poll_message_set("Build the route scene first")
            return False
        return True

    def execute(self, context):
        try:
            path = check_writable(Path(self.filepath), "file")
            save_blend_atomic(path)
        except Exception as error:
            self.report({"ERROR"}, describe(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Saved {path} (the open file is unchanged)")
        return {"FINISHED"}
