"""Write :class:`.mesh_arrays.MeshArrays` into Blender meshes in bulk (``foreach_set``)."""

import bpy
import numpy as np

from .mesh_arrays import MeshArrays

# Blender 4.0 made MeshPolygon.loop_total read-only (sizes follow from loop_start).
_LOOP_TOTAL_WRITABLE = not bpy.types.MeshPolygon.bl_rna.properties["loop_total"].is_readonly


def mesh_from_arrays(name: str, arrays: MeshArrays) -> "bpy.types.Mesh":
    """A new mesh holding *arrays*: one bulk write per attribute, no per-element Python."""
    mesh = bpy.data.meshes.new(name)
    fill_mesh(mesh, arrays)
    return mesh


def fill_mesh(mesh: "bpy.types.Mesh", arrays: MeshArrays) -> None:
    """Write *arrays* into an empty *mesh*."""
    mesh.vertices.add(arrays.vertex_count)
    mesh.vertices.foreach_set("co", np.ascontiguousarray(arrays.vertices, np.float32).ravel())
    mesh.loops.add(len(arrays.loop_vertices))
    mesh.loops.foreach_set("vertex_index", np.ascontiguousarray(arrays.loop_vertices, np.int32))
    mesh.polygons.add(arrays.face_count)
    mesh.polygons.foreach_set("loop_start", np.ascontiguousarray(arrays.loop_starts, np.int32))
    if _LOOP_TOTAL_WRITABLE:
        mesh.polygons.foreach_set("loop_total", np.ascontiguousarray(arrays.loop_totals, np.int32))
    if arrays.face_materials is not None and arrays.face_count:
        mesh.polygons.foreach_set(
            "material_index", np.ascontiguousarray(arrays.face_materials, np.int32)
        )
    mesh.update(calc_edges=True)


#: Upper bounds of what Blender holds per element of a mesh written by :func:`fill_mesh`
#: (positions, corners, faces, the edges ``calc_edges`` derives): measured 42-44 bytes a
#: corner on 1-4 M corners of quads (bpy 5.0.1).
BYTES_PER_VERTEX, BYTES_PER_LOOP, BYTES_PER_FACE = 24, 40, 16


def mesh_bytes(arrays: MeshArrays) -> int:
    """About how much memory Blender takes for a mesh of *arrays* (an upper bound)."""
    return (
        BYTES_PER_VERTEX * arrays.vertex_count
        + BYTES_PER_LOOP * len(arrays.loop_vertices)
        + BYTES_PER_FACE * arrays.face_count
    )


def object_with_mesh(
    name: str,
    arrays: MeshArrays,
    collection: "bpy.types.Collection",
    materials=(),
    *,
    reserve=None,
) -> "bpy.types.Object":
    """A new object in *collection* with a new mesh of *arrays* and *materials* as slots.

    *reserve* (a stage's :meth:`~..memory.stage_boundary.Stage.reserve`) is asked first
    for the mesh's memory: writing it is a few long C calls no budget stop can interrupt.
    """
    if reserve is not None:
        reserve(
            mesh_bytes(arrays),
            f"writing the mesh '{name}' into Blender",
            f"{arrays.vertex_count:,} vertices, {len(arrays.loop_vertices):,} corners and "
            f"{arrays.face_count:,} faces",
        )
    mesh = mesh_from_arrays(name, arrays)
    for material in materials:
        mesh.materials.append(material)
    obj = bpy.data.objects.new(name, mesh)
    collection.objects.link(obj)
    return obj
