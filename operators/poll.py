# SPDX-License-Identifier: GPL-3.0-or-later
"""The poll conditions LeanRoute's operators share, each with the reason Blender shows."""


def not_building(cls, context) -> bool:
    """True unless a LeanRoute build is running (nothing may change data under it)."""
    if context.window_manager.leanroute_job.running:
        cls.poll_message_set("Wait for the LeanRoute build to finish")
        return False
    return True


def has_route_inputs(cls, context) -> bool:
    """A scene with LeanRoute's inputs and no build running."""
    if context.scene is None or not hasattr(context.scene, "leanroute"):
        return False
    return not_building(cls, context)


def can_build(cls, context) -> bool:
    """Poll of the operators that build: a scene, no build running, Object Mode."""
    if not has_route_inputs(cls, context):
        return False
    if context.mode != "OBJECT":
        cls.poll_message_set("Switch to Object Mode to build")
        return False
    return True
