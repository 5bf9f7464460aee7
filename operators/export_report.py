# SPDX-License-Identifier: GPL-3.0-or-later
"""Export Report: the last build's memory report, the leak check and memory now, as JSON."""

import json
import os
from dataclasses import asdict
from pathlib import Path

import bpy
from bpy_extras.io_utils import ExportHelper

from ..memory.snapshot import take_snapshot
from ..properties.addon_preferences import get_preferences
from ..route.atomic_files import check_writable, write_text_atomic
from ..route.errors import describe
from .stored_report import parse_json


def report_document(scene) -> dict:
    """The exported JSON: the last build's PipelineReport, ``leak_check`` and ``memory_now``.

    The build report keeps its own layout at the top level, so
    ``PipelineReport.from_dict`` reads an exported file back.
    """
    inputs = scene.leanroute
    document = parse_json(inputs.last_report) or {}
    leak = parse_json(inputs.last_leak_check)
    if leak is not None:
        document["leak_check"] = leak
    document["memory_now"] = asdict(take_snapshot())
    return document


class LEANROUTE_OT_export_report(bpy.types.Operator, ExportHelper):
    """Export the last build's memory report as JSON"""

    bl_description = (
        "Write the last build's per-stage memory report, the last leak check and the "
        "memory figures now to a JSON file"
    )

    bl_idname = "leanroute.export_report"
    bl_label = "Export Report…"
    bl_options = {"REGISTER"}

    filename_ext = ".json"
    filter_glob: bpy.props.StringProperty(default="*.json", options={"HIDDEN"})

    @classmethod
    def poll(cls, context):
        if context.scene is None or not getattr(context.scene, "leanroute", None):
            return False
        if not context.scene.leanroute.last_report:
            cls.poll_message_set("Build once: there is no report yet")
            return False
        return True

    def invoke(self, context, event):
        folder = get_preferences(context).report_folder
        if folder.strip() and not self.filepath:
            self.filepath = os.path.join(bpy.path.abspath(folder), "leanroute-report.json")
            context.window_manager.fileselect_add(self)
            return {"RUNNING_MODAL"}
        return super().invoke(context, event)

    def execute(self, context):
        try:
            path = check_writable(Path(self.filepath), "file")
            write_text_atomic(path, json.dumps(report_document(context.scene), indent=1))
        except Exception as error:
            self.report({"ERROR"}, describe(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Memory report written to {path}")
        return {"FINISHED"}
