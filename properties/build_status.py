# SPDX-License-Identifier: GPL-3.0-or-later
"""What a build started from the UI is doing (on the window manager: never saved)."""

import bpy


class LEANROUTE_PG_build_status(bpy.types.PropertyGroup):
    """Progress of the running build, for the panel, its Cancel button and the status line."""

    running: bpy.props.BoolProperty(name="Running", description="A build is running")
    stage: bpy.props.StringProperty(name="Stage", description="The stage running now")
    fraction: bpy.props.FloatProperty(
        name="Progress", description="Share of the stages done", min=0.0, max=1.0, subtype="FACTOR"
    )
    cancel_requested: bpy.props.BoolProperty(
        name="Cancel Requested", description="The build stops and rolls back before its next stage"
    )
    # The running build's report so far, so the stage table fills in while it runs.
    report_json: bpy.props.StringProperty(name="Report So Far", options={"HIDDEN", "SKIP_SAVE"})
