"""``blender -b -c leanroute ARGS`` on Blender 4.2+ (``bpy.utils.register_cli_command``)."""

import bpy

from .commands import main

# The handle Blender returns, to unregister exactly what was registered (not Blender data).
_handle = None


def _run(argv: list[str]) -> int:
    return main(argv, prog="blender -c leanroute")


def register() -> None:
    """Register the ``leanroute`` command where Blender supports custom commands (4.2+)."""
    global _handle  # noqa: PLW0603 - one registration per add-on enable
    if hasattr(bpy.utils, "register_cli_command") and _handle is None:
        _handle = bpy.utils.register_cli_command("leanroute", _run)


def unregister() -> None:
    """Remove the command again."""
    global _handle  # noqa: PLW0603
    if _handle is not None:
        bpy.utils.unregister_cli_command(_handle)
        _handle = None
