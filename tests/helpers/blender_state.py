"""A snapshot of everything an add-on can leave registered in Blender, and its diff.

Used to prove that ``unregister()`` undoes ``register()`` completely: registered
classes, RNA properties added to any type, app handlers, timers, add-on keymap
items and enabled add-ons. Timers cannot be listed through the API, so they are
found by asking ``bpy.app.timers.is_registered`` about every function defined in
the watched packages.
"""

import inspect
import sys
from collections import Counter

import bpy


def _registered_types() -> dict[str, set[str]]:
    types = {}
    for name in dir(bpy.types):
        cls = getattr(bpy.types, name, None)
        rna = getattr(cls, "bl_rna", None)
        if rna is None:
            continue
        types[name] = set(rna.properties.keys())
    return types


def _handlers() -> dict[str, list[str]]:
    handlers = {}
    for name in dir(bpy.app.handlers):
        entries = getattr(bpy.app.handlers, name)
        if isinstance(entries, list):
            handlers[name] = [
                f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
                for fn in entries
            ]
    return handlers


def _functions_of(packages: tuple[str, ...]):
    for module_name, module in list(sys.modules.items()):
        if module is None or not any(
            module_name == package or module_name.startswith(package + ".") for package in packages
        ):
            continue
        for value in list(vars(module).values()):
            if inspect.isfunction(value):
                yield value
            elif inspect.isclass(value):
                yield from (v for v in vars(value).values() if inspect.isfunction(v))


def _timers(packages: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{fn.__module__}.{fn.__qualname__}"
        for fn in _functions_of(packages)
        if bpy.app.timers.is_registered(fn)
    )


def _keymap_items() -> list[str]:
    keyconfig = bpy.context.window_manager.keyconfigs.addon
    if keyconfig is None:  # background mode in some Blender builds has no add-on keyconfig
        return []
    return sorted(
        f"{keymap.name}: {item.idname}"
        for keymap in keyconfig.keymaps
        for item in keymap.keymap_items
    )


def snapshot(packages: tuple[str, ...] = ("leanroute", "bl_ext")) -> dict:
    """Record what is registered in Blender right now."""
    return {
        "types": _registered_types(),
        "handlers": _handlers(),
        "timers": _timers(packages),
        "keymap_items": _keymap_items(),
        "addons": sorted(bpy.context.preferences.addons.keys()),
    }


def _list_diff(kind: str, before: list[str], after: list[str]) -> list[str]:
    # Multisets: a handler appended twice and removed once is still a leftover.
    added, removed = Counter(after) - Counter(before), Counter(before) - Counter(after)
    lines = [f"{kind} added: {item}" for item in sorted(added.elements())]
    lines += [f"{kind} removed: {item}" for item in sorted(removed.elements())]
    return lines


def diff(before: dict, after: dict) -> list[str]:
    """Describe every difference between two snapshots, one line each; [] when equal."""
    lines = []
    types_before, types_after = before["types"], after["types"]
    lines += [f"class added: {name}" for name in sorted(types_after.keys() - types_before.keys())]
    lines += [f"class removed: {name}" for name in sorted(types_before.keys() - types_after.keys())]
    for name in sorted(types_before.keys() & types_after.keys()):
        props_before, props_after = types_before[name], types_after[name]
        lines += [f"property added: {name}.{p}" for p in sorted(props_after - props_before)]
        lines += [f"property removed: {name}.{p}" for p in sorted(props_before - props_after)]
    for name in sorted(before["handlers"].keys() | after["handlers"].keys()):
        lines += _list_diff(
            f"handler ({name})",
            before["handlers"].get(name, []),
            after["handlers"].get(name, []),
        )
    lines += _list_diff("timer", before["timers"], after["timers"])
    lines += _list_diff("keymap item", before["keymap_items"], after["keymap_items"])
    lines += _list_diff("add-on", before["addons"], after["addons"])
    return lines
