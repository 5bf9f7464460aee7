"""The data-blocks that hold the most memory, for the Memory panel's "largest" list.

Sizes are estimates from element counts (see ``datablock_size_model``). The panel calls
this on a refresh, not on every draw. Reading a mesh's attribute list is the costly part
(about 20 us a mesh), so each mesh's estimate is remembered with a fingerprint of cheap
counts (elements, attributes, shape keys, UV maps) and re-read only when one changes; a
refresh then costs about 5 us a mesh. Converting an attribute's type in place keeps the
fingerprint, so that estimate stays stale until the mesh's counts change (or
``largest_datablocks(..., use_cache=False)``). Main thread only.
"""

import heapq
from dataclasses import dataclass

import bpy

from .datablock_identity import is_ours
from .datablock_keys import id_key
from .datablock_size_model import (
    AttributeLayer,
    SizeEstimate,
    estimate_curve,
    estimate_image,
    estimate_mesh,
    layout_for_version,
)

KINDS = ("meshes", "images", "curves")
"""The ``bpy.data`` collections whose data-blocks can be measured."""

_LAYOUT = layout_for_version(bpy.app.version)
# Before 3.5 UV maps are MLoopUV layers, not attributes: count them from mesh.uv_layers.
_UV_MAPS_UNLISTED = bpy.app.version < (3, 5, 0)

# Mesh estimates by identity key: (fingerprint, estimate). Rebuilt on every call from the
# meshes seen, so it never holds more entries than there are meshes.
_mesh_cache: "dict[int, tuple[tuple[int, ...], SizeEstimate]]" = {}


@dataclass(frozen=True)
class DataBlockSize:
    """One data-block and its estimated memory, as plain values (no ``bpy`` references).

    ``users`` is Blender's user count; ``user_names`` names the data-blocks that use it
    (``"Object 'Cube'"``); ``is_leanroute`` says it carries LeanRoute's owner tag, i.e. a
    build made it. ``detail`` says what was counted (``"90,601 vertices, 90,000 faces"``).
    """

    kind: str
    name: str
    estimated_bytes: int
    users: int
    user_names: tuple[str, ...]
    fake_user: bool
    is_leanroute: bool
    detail: str = ""


def estimate_datablock(kind: str, idb: "bpy.types.ID") -> SizeEstimate:
    """Estimate the memory of *idb*, a data-block of the ``bpy.data`` collection *kind*."""
    if kind == "meshes":
        return _mesh(idb)
    if kind == "images":
        return _image(idb)
    if kind == "curves":
        return _curve(idb)
    raise ValueError(f"cannot measure {kind!r}: expected one of {', '.join(KINDS)}")


def _mesh_fingerprint(mesh: "bpy.types.Mesh") -> tuple[int, ...]:
    keys = mesh.shape_keys
    return (
        len(mesh.vertices),
        len(mesh.edges),
        len(mesh.loops),
        len(mesh.polygons),
        len(mesh.attributes),
        len(keys.key_blocks) if keys is not None else 0,
        len(mesh.uv_layers) if _UV_MAPS_UNLISTED else 0,
    )


def _mesh(mesh: "bpy.types.Mesh", fingerprint: "tuple[int, ...] | None" = None) -> SizeEstimate:
    vertices, edges, corners, faces, _, shape_keys, uv_maps = fingerprint or _mesh_fingerprint(mesh)
    attributes = [AttributeLayer(a.name, a.domain, a.data_type) for a in mesh.attributes]
    return estimate_mesh(
        vertices,
        edges,
        corners,
        faces,
        attributes,
        layout=_LAYOUT,
        unlisted_uv_maps=uv_maps,
        shape_keys=shape_keys,
    )


def _measure_meshes(use_cache: bool):
    global _mesh_cache  # noqa: PLW0603 - replaced whole, so meshes gone since drop out
    cache, fresh = _mesh_cache if use_cache else {}, {}
    for mesh in bpy.data.meshes:
        key, fingerprint = id_key(mesh), _mesh_fingerprint(mesh)
        cached = cache.get(key)
        if cached is not None and cached[0] == fingerprint:
            estimate = cached[1]
        else:
            estimate = _mesh(mesh, fingerprint)
        fresh[key] = (fingerprint, estimate)
        yield mesh, estimate
    _mesh_cache = fresh


def _image(image: "bpy.types.Image") -> SizeEstimate:
    # has_data first: reading size, channels or is_float loads an unloaded image from disk.
    if not image.has_data:
        return estimate_image((), 0, is_float=False, loaded=False)
    if image.source == "TILED":
        tiles = [tuple(tile.size) for tile in image.tiles]
    else:
        tiles = [tuple(image.size)]
    return estimate_image(tiles, image.channels, is_float=image.is_float, loaded=True)


def _curve(curve: "bpy.types.Curve") -> SizeEstimate:
    splines = bezier = points = nurbs = 0
    for spline in curve.splines:
        splines += 1
        bezier += len(spline.bezier_points)
        count = len(spline.points)
        points += count
        if spline.type == "NURBS":
            nurbs += count
    return estimate_curve(splines, bezier, points, nurbs)


def _label(idb: "bpy.types.ID") -> str:
    return f"{type(idb).__name__} '{idb.name}'"


def _is_tagged(idb: "bpy.types.ID") -> bool:
    # A build's own data-block; a user's copy of one inherits the tag but is not.
    return is_ours(idb)


def largest_datablocks(
    limit: int = 8, kinds: "tuple[str, ...]" = KINDS, *, use_cache: bool = True
) -> list[DataBlockSize]:
    """The *limit* data-blocks of *kinds* with the largest estimated memory, largest first.

    Who uses each is looked up (``bpy.data.user_map``) for these few only. With
    *use_cache* off, every mesh's attributes are read again (see the module's docstring).
    """
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"cannot measure {kind!r}: expected one of {', '.join(KINDS)}")
    if limit <= 0:
        return []
    measured = []  # (bytes, order, kind, idb, estimate): order keeps ties stable
    for kind in kinds:
        collection = getattr(bpy.data, kind, None)
        if collection is None:
            continue
        if kind == "meshes":
            sized = _measure_meshes(use_cache)
        else:
            sized = ((idb, estimate_datablock(kind, idb)) for idb in collection)
        for idb, estimate in sized:
            measured.append((estimate.estimated_bytes, len(measured), kind, idb, estimate))
    top = heapq.nlargest(limit, measured, key=lambda item: (item[0], -item[1]))
    if not top:
        return []
    users = bpy.data.user_map(subset=[item[3] for item in top])
    return [
        DataBlockSize(
            kind=kind,
            name=idb.name,
            estimated_bytes=size,
            users=idb.users,
            user_names=tuple(sorted(_label(u) for u in users.get(idb, ()) if u != idb)),
            fake_user=idb.use_fake_user,
            is_leanroute=_is_tagged(idb),
            detail=estimate.detail,
        )
        for size, _, kind, idb, estimate in top
    ]
