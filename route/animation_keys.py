"""Bulk keyframes: one ``foreach_set`` per F-curve, on Blender 3.4 to 5.x."""

import bpy
import numpy as np

_LINEAR = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value


def new_action(idb: "bpy.types.ID", name: str) -> "bpy.types.Action":
    """A new action assigned to *idb*'s animation data."""
    action = bpy.data.actions.new(name)
    if idb.animation_data is None:
        idb.animation_data_create()
    idb.animation_data.action = action
    return action


def _fcurve(action: "bpy.types.Action", idb: "bpy.types.ID", data_path: str, index: int):
    # Blender 4.4 moved F-curves into action slots; 5.0 removed Action.fcurves.
    if hasattr(action, "fcurve_ensure_for_datablock"):
        return action.fcurve_ensure_for_datablock(idb, data_path, index=index)
    return action.fcurves.new(data_path, index=index)


def key_channels(
    action: "bpy.types.Action",
    idb: "bpy.types.ID",
    data_path: str,
    frames: np.ndarray,
    values: np.ndarray,
) -> None:
    """Key ``data_path[i]`` of *idb* at *frames* to ``values[:, i]``, linear in between."""
    values = np.asarray(values, np.float32)
    if values.ndim == 1:
        values = values[:, None]
    count = len(frames)
    for index in range(values.shape[1]):
        fcurve = _fcurve(action, idb, data_path, index)
        points = fcurve.keyframe_points
        points.add(count)
        co = np.empty((count, 2), np.float32)
        co[:, 0] = frames
        co[:, 1] = values[:, index]
        points.foreach_set("co", co.ravel())
        points.foreach_set("interpolation", np.full(count, _LINEAR, np.int32))
        fcurve.update()
