"""A plain-data picture of a scene with a LeanRoute build, to compare before and after.

More than :func:`helpers.scene.fingerprint` (names and links): each object's geometry size,
parent, view-layer visibility, LeanRoute tags and animation keys, the build collection's
properties and the scene's frame range and camera.
"""

import bpy

from helpers.scene import fingerprint

TAGS = ("leanroute_owner", "leanroute_identity", "leanroute_build", "leanroute_origin")


def fcurves(action) -> list:
    """Every F-curve of *action* (Blender 3.4 to 5.x: 4.4 moved them into slots)."""
    if hasattr(action, "fcurves"):
        return list(action.fcurves)
    found = []
    for layer in action.layers:
        for strip in layer.strips:
            for bag in strip.channelbags:
                found.extend(bag.fcurves)
    return found


def _plain(value):
    for method in ("to_dict", "to_list"):
        if hasattr(value, method):
            return getattr(value, method)()
    return value


def _tags(idb) -> dict:
    found = {key: _plain(idb[key]) for key in TAGS if key in idb}
    if isinstance(found.get("leanroute_identity"), dict):
        # Its session key is the data-block's own: a restored one has a new one.
        found["leanroute_identity"] = found["leanroute_identity"].get("name")
    return found


def _animation(obj) -> "list | None":
    action = obj.animation_data.action if obj.animation_data else None
    if action is None:
        return None
    keys = []
    for curve in fcurves(action):
        points = curve.keyframe_points
        ends = [tuple(round(v, 4) for v in points[i].co) for i in (0, -1)] if points else []
        keys.append((curve.data_path, curve.array_index, len(points), ends))
    return [action.name, sorted(keys)]


def build_state() -> dict:
    """The scene now, as plain data (see the module's docstring)."""
    scene = bpy.context.scene
    view_layer = scene.view_layers[0]
    objects = {}
    for obj in bpy.data.objects:
        data = obj.data
        size = len(data.vertices) if isinstance(data, bpy.types.Mesh) else None
        objects[obj.name] = {
            "data": data.name if data else None,
            "size": size,
            "parent": obj.parent.name if obj.parent else None,
            "targets": [c.target.name if c.target else None for c in obj.constraints],
            "hidden": obj.hide_get(view_layer=view_layer) if obj.users_scene else None,
            "slots": [s.material.name if s.material else None for s in obj.material_slots],
            "tags": _tags(obj),
            "animation": _animation(obj),
        }
    return {
        "fingerprint": fingerprint(),
        "objects": objects,
        "collections": {c.name: _tags(c) for c in bpy.data.collections},
        "data_tags": {
            kind: {idb.name: _tags(idb) for idb in getattr(bpy.data, kind)}
            for kind in ("meshes", "materials", "curves", "actions", "cameras")
        },
        "scene": [scene.frame_start, scene.frame_end, scene.render.fps, scene.camera.name],
        "libraries": [lib.name for lib in bpy.data.libraries],
    }


def differences(before: dict, after: dict) -> list[str]:
    """Where two :func:`build_state` pictures differ (empty when equal)."""
    found = []
    for key, value in before.items():
        if value != after.get(key):
            found.append(f"{key}: {value!r}\n  -> {after.get(key)!r}")
    return found
