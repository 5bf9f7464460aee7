# SPDX-License-Identifier: GPL-3.0-or-later
"""LeanRoute: OpenStreetMap route scenes for Blender, with memory that stays flat.

Loaded as an extension on Blender 4.2+ (``blender_manifest.toml``) and as a legacy
add-on on Blender 3.4-4.1 (``bl_info``). This file only registers the Blender shell;
the pure core (parsing, routing, geometry, statistics) lives in the sub-packages and
imports without ``bpy``, so importing ``leanroute`` never pulls Blender in.
"""

# Read with ``ast`` by Blender's legacy add-on loader: keep it a plain literal.
bl_info = {
    "name": "LeanRoute",
    "author": "LeanRoute developers",
    "version": (0, 1, 0),
    "blender": (3, 4, 0),
    "location": "View3D > Sidebar > LeanRoute",
    "description": "OpenStreetMap route scenes with memory that stays flat",
    "doc_url": "",
    "category": "Import-Export",
}


def _shell_modules():
    # Imported here, not at module level, so the core stays importable without bpy.
    from . import operators, panels, properties
    from .cli import blender_command
    from .memory import idle_clean

    # Registration order (properties before the operators and panels that use them);
    # unregister walks it backwards.
    return (properties, operators, panels, idle_clean, blender_command)


def register():
    """Register every LeanRoute class, property, handler and timer.

    If one module fails, the ones already registered are unregistered again,
    so a failed enable leaves Blender as it was.
    """
    done = []
    try:
        for module in _shell_modules():
            module.register()
            done.append(module)
    except Exception:
        for module in reversed(done):
            module.unregister()
        raise


def unregister():
    """Undo everything :func:`register` did, in reverse order."""
    for module in reversed(_shell_modules()):
        module.unregister()
