"""What every fuzz case must leave behind: one clear line, the scene, the files (real bpy).

Each check returns a list of problems (plain sentences) instead of asserting, so a case that
breaks several promises reports all of them at once.
"""

import faulthandler
import math
import os
import re
import signal
from contextlib import contextmanager
from pathlib import Path

import bpy
from mathutils import Vector

from helpers.scene import fingerprint

#: A build whose scene reaches farther than this from the origin moved somewhere wrong (the
#: fuzz city spans 300 m, with padding under 1 km).
SANE_REACH_M = 5_000.0
#: Blender's frame limits (MINFRAME, MAXFRAME).
FRAME_LIMITS = (0, 1_048_574)
#: A Python exception's class name in user-facing text, or a traceback.
_EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b|\bKeyboardInterrupt\b|Traceback")
#: "the root element is <gpx>, expected <gpx>": a message contradicting itself.
_SAME_TAG = re.compile(r"<([\w:.-]+)>, expected <\1>")
#: Names LeanRoute's or Blender's save temporaries take.
_TEMPORARY = re.compile(r"\.tmp|@$|\.partial$|^\.[^.]")

USER_PREFIX = "Fuzz User"


class CaseHung(BaseException):
    """A case gave no answer within the hang limit (not an Exception: main() must not eat it)."""


@contextmanager
def hang_guard(seconds: int):
    """Raise :class:`CaseHung` after *seconds*; kill the process (with a traceback) at twice that.

    A detector of hangs, not a speed limit: the limit is far above any case's time. Yields a
    list that holds True once the alarm went off (also if the code under test swallowed it).
    """
    fired = []

    def alarm(_signum, _frame):
        fired.append(True)
        raise CaseHung(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    faulthandler.dump_traceback_later(seconds * 2, exit=True)
    signal.alarm(seconds)
    try:
        yield fired
    finally:
        signal.alarm(0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


# -- the user's own data ---------------------------------------------------------------------


def make_user_data() -> None:
    """Data-blocks a user made before building: an object with mesh and material in a collection."""
    mesh = bpy.data.meshes.new(f"{USER_PREFIX} Mesh")
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    material = bpy.data.materials.new(f"{USER_PREFIX} Material")
    mesh.materials.append(material)
    obj = bpy.data.objects.new(f"{USER_PREFIX} Object", mesh)
    collection = bpy.data.collections.new(f"{USER_PREFIX} Collection")
    bpy.context.scene.collection.children.link(collection)
    collection.objects.link(obj)
    bpy.data.texts.new(f"{USER_PREFIX} Notes").write("mine")


def user_data_problems() -> list[str]:
    """What is missing or unlinked of :func:`make_user_data`'s blocks."""
    obj = bpy.data.objects.get(f"{USER_PREFIX} Object")
    collection = bpy.data.collections.get(f"{USER_PREFIX} Collection")
    if obj is None or collection is None or f"{USER_PREFIX} Notes" not in bpy.data.texts:
        return ["a data-block the user made is gone"]
    problems = []
    if obj.data is None or obj.data.name != f"{USER_PREFIX} Mesh":
        problems.append("the user's object lost its mesh")
    elif [m and m.name for m in obj.data.materials] != [f"{USER_PREFIX} Material"]:
        problems.append("the user's mesh lost its material")
    if obj.name not in collection.objects:
        problems.append("the user's object left its collection")
    if collection.name not in bpy.context.scene.collection.children:
        problems.append("the user's collection left the scene")
    return problems


# -- the scene -------------------------------------------------------------------------------


def scene_state() -> dict:
    """Every data-block and link (helpers.scene.fingerprint), safe without a scene camera."""
    scene = bpy.context.scene
    if scene.camera is None:
        camera = bpy.data.objects.new("fuzz camera stand-in", None)
        try:
            scene.camera = camera
            state = fingerprint()
        finally:
            bpy.data.objects.remove(camera)
        return state
    return fingerprint()


def orphans() -> set:
    """(collection, name) of every data-block nothing uses (no users, no fake user)."""
    from leanroute.memory.blender_stats import id_collections

    return {
        (name, block.name)
        for name in id_collections()
        for block in getattr(bpy.data, name)
        if block.users == 0
    }


def scene_changes(before: dict, after: dict) -> list[str]:
    """What differs between two :func:`scene_state` results, briefly."""
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, list) and isinstance(new, list):
            gone = [x for x in old if x not in new][:3]
            added = [x for x in new if x not in old][:3]
            changes.append(f"{key}: gone {gone}, added {added}")
        else:
            changes.append(f"{key}: {old} -> {new}")
    return changes


def built_scene_problems() -> list[str]:
    """A successful build's scene: within reach of the origin, frames and keys in range."""
    problems = []
    scene = bpy.context.scene
    low, high = FRAME_LIMITS
    if not low <= scene.frame_start <= scene.frame_end <= high:
        problems.append(f"scene frames {scene.frame_start}..{scene.frame_end}")
    for obj in scene.objects:
        corners = [obj.matrix_world @ Vector(corner) for corner in obj.bound_box]
        reach = max(max(abs(c) for c in corner) for corner in corners)
        if not math.isfinite(reach) or reach > SANE_REACH_M:
            problems.append(f"{obj.name!r} reaches {reach:.3g} m from the origin")
        for frame in _key_frames(obj):
            if not (math.isfinite(frame) and scene.frame_start <= frame <= scene.frame_end):
                problems.append(
                    f"{obj.name!r} has a key at frame {frame:g}, outside the scene's "
                    f"{scene.frame_start}..{scene.frame_end}"
                )
                break
    return problems


def _key_frames(obj):
    animation = obj.animation_data
    if animation is None or animation.action is None:
        return
    action = animation.action
    curves = getattr(action, "fcurves", None)  # Blender < 5
    if curves is None:
        from bpy_extras import anim_utils

        bag = anim_utils.action_get_channelbag_for_slot(action, animation.action_slot)
        curves = bag.fcurves if bag is not None else ()
    for curve in curves:
        for key in curve.keyframe_points:
            yield key.co[0]


# -- what the command printed ------------------------------------------------------------------


def message_problems(code: int, out: str, err: str, mention=(), jobs_listing=False) -> list[str]:
    """stderr: no traceback or exception names; a failure is one clear line naming *mention*.

    With *jobs_listing*, a failure may list one problem per following line (indented), as a
    jobs file's bad rows are.
    """
    problems = []
    for stream, text in (("stdout", out), ("stderr", err)):
        names = sorted(set(_EXCEPTION_NAME.findall(text)))
        if names:
            problems.append(f"{stream} shows {', '.join(names)}")
        if "--debug shows the traceback" in text:
            problems.append(f"{stream} calls it a bug: '(--debug shows the traceback)'")
    if _SAME_TAG.search(err):
        problems.append("the message contradicts itself (<x>, expected <x>)")
    lines = [line for line in err.splitlines() if line.strip()]
    if code == 1:
        if not lines or not lines[0].startswith("leanroute: error: "):
            problems.append("no 'leanroute: error:' line first")
        extra = lines[1:]
        if extra and not (jobs_listing and all(line.startswith("  ") for line in extra)):
            problems.append(f"{len(lines)} lines on stderr, not one")
        if mention and lines and not any(name in lines[0] for name in mention):
            problems.append(f"the error line names none of {list(mention)}")
    return problems


# -- the files -------------------------------------------------------------------------------


def tree(folder: Path) -> dict[str, "bytes | None"]:
    """Every path under *folder*: regular files with their bytes, anything else None."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root, name)
            relative = str(path.relative_to(folder))
            found[relative] = path.read_bytes() if path.is_file() and not path.is_fifo() else None
    return found


def is_blend(data: "bytes | None") -> bool:
    """A .blend file's bytes: plain or zstd-compressed."""
    return bool(data) and (data[:7] == b"BLENDER" or data[:4] == b"\x28\xb5\x2f\xfd")


def temporaries(paths) -> list[str]:
    """The paths among *paths* named like a save or write temporary."""
    return [path for path in paths if _TEMPORARY.search(Path(path).name)]
