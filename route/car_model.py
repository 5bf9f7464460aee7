"""The car: a procedural low-poly car built in a BMesh scope, or one appended from a .blend."""

from pathlib import Path

import bmesh
import bpy
from mathutils import Matrix, Vector

from ..memory.bmesh_scopes import new_bmesh
from .errors import InputFileError, SettingsError
from .input_files import check_input_file

# Metres; the car faces +X, its origin between the wheels on the ground.
LENGTH, WIDTH, BODY_HEIGHT = 4.3, 1.8, 0.75
WHEEL_RADIUS, WHEEL_WIDTH = 0.33, 0.22
SLOT_BODY, SLOT_GLASS, SLOT_TYRE = 0, 1, 2


def procedural_car_mesh(name: str) -> "bpy.types.Mesh":
    """A ~200-face car: body, cabin and four wheels, with body/glass/tyre material slots."""
    mesh = bpy.data.meshes.new(name)
    with new_bmesh() as bm:
        _box(bm, (0, 0, WHEEL_RADIUS + BODY_HEIGHT / 2), (LENGTH, WIDTH, BODY_HEIGHT), SLOT_BODY)
        cabin = _box(
            bm,
            (-0.25, 0, WHEEL_RADIUS + BODY_HEIGHT + 0.3),
            (LENGTH * 0.5, WIDTH * 0.86, 0.6),
            SLOT_GLASS,
        )
        # Narrow the cabin's roof so the windows slope.
        top = [v for v in cabin if v.co.z > WHEEL_RADIUS + BODY_HEIGHT + 0.3]
        bmesh.ops.scale(
            bm, vec=(0.75, 0.9, 1.0), space=Matrix.Translation(-_centre(top)), verts=top
        )
        for x in (LENGTH * 0.32, -LENGTH * 0.32):
            for y in (WIDTH / 2, -WIDTH / 2):
                _wheel(bm, (x, y, WHEEL_RADIUS))
        bm.to_mesh(mesh)
    return mesh


def _box(bm, centre, size, slot):
    result = bmesh.ops.create_cube(bm, size=1.0)
    verts = result["verts"]
    bmesh.ops.scale(bm, vec=size, verts=verts)
    bmesh.ops.translate(bm, vec=centre, verts=verts)
    for face in {f for v in verts for f in v.link_faces}:
        face.material_index = slot
    return verts


def _wheel(bm, centre):
    result = bmesh.ops.create_cone(
        bm,
        cap_ends=True,
        segments=10,
        radius1=WHEEL_RADIUS,
        radius2=WHEEL_RADIUS,
        depth=WHEEL_WIDTH,
        matrix=Matrix.Translation(centre) @ Matrix.Rotation(1.5707963, 4, "X"),
    )
    for face in {f for v in result["verts"] for f in v.link_faces}:
        face.material_index = SLOT_TYRE


def _centre(verts) -> Vector:
    total = Vector()
    for vert in verts:
        total += vert.co
    return total / max(len(verts), 1)


def append_car(blend: Path, object_name: str) -> "bpy.types.Object":
    """Append *object_name* (with its mesh and materials) from *blend*; clear errors if absent."""
    # Not a FIFO or device: Blender would block or read forever opening one.
    check_input_file(blend, "a .blend file for the car")
    with bpy.data.libraries.load(str(blend), link=False) as (source, target):
        if object_name not in source.objects:
            available = ", ".join(sorted(source.objects)[:20]) or "no objects"
            raise SettingsError(
                "car_object", f"no object named {object_name!r} in {blend} (it has: {available})"
            )
        target.objects = [object_name]
    obj = target.objects[0]
    if obj is None:
        raise InputFileError(blend, f"could not append the object {object_name!r}")
    return obj
