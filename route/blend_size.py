"""About how large a .blend of the open file will be: the "disk full" message's figure (bpy).

Blender reports a save that ran out of space as "No such file or directory" and deletes what
it had written, so the size needed is estimated instead: a factory-startup file's own size,
plus the arrays of every mesh, curve and loaded image (memory's data-block size model, the
same arrays the file stores, uncompressed) and every keyframe of every action.
"""

import bpy

from ..memory.largest_datablocks import KINDS, estimate_datablock

#: A .blend of Blender's factory startup scene (5.0: 470 KB; 3.4: about 850 KB).
EMPTY_BLEND_BYTES = 512 * 1024
#: A keyframe as stored (a BezTriple: three control points and their settings).
KEYFRAME_BYTES = 72


def estimate_blend_bytes() -> int:
    """About how many bytes saving the open file as an uncompressed .blend writes."""
    total = EMPTY_BLEND_BYTES
    for kind in KINDS:
        for block in getattr(bpy.data, kind):
            total += estimate_datablock(kind, block).estimated_bytes
    for action in bpy.data.actions:
        total += KEYFRAME_BYTES * sum(len(curve.keyframe_points) for curve in _fcurves(action))
    return total


def _fcurves(action):
    # Blender 4.4 moved F-curves into layers, strips and channel bags; 5.0 removed the old list.
    if not hasattr(action, "layers"):
        yield from action.fcurves
        return
    for layer in action.layers:
        for strip in layer.strips:
            for bag in strip.channelbags:
                yield from bag.fcurves
