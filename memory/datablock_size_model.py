"""Estimate the memory a data-block holds, from plain counts (no ``bpy``).

Blender has no per-data-block memory figure, so the Memory panel's "largest data-blocks"
list multiplies element counts by what Blender stores per element. The result is an
**estimate** of the data-block's own arrays, close to what Blender's allocator grows by when
the data-block is created (checked in tests/test_largest_datablocks.py). It leaves out:

- runtime caches that come and go: normals, loop triangles, BVH trees, bounding boxes,
  GPU batches and textures (these can double a mesh while it is drawn or evaluated);
- the evaluated copy in the depsgraph. Since Blender 3.6 it shares the original's arrays,
  but on older versions an object's evaluated mesh is a full second copy;
- undo steps, which hold their own copies;
- fixed per-data-block overhead (the ID struct, names, custom properties): a few hundred
  bytes, which matters only for tiny data-blocks;
- for meshes: vertex groups (deform weights), edit-mode BMeshes, custom data stored
  outside attributes by add-ons; shape keys only when their count is passed in;
- for images: mipmaps, GPU copies, a second byte/float buffer made for display, and any
  image not loaded yet (that one holds no pixels, so it counts as 0);
- for curves: text (font) curves' characters and the evaluated curve cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Bytes per element of each attribute data type, as Blender stores it (CustomData layers).
BYTES_PER_ELEMENT: dict[str, int] = {
    "FLOAT": 4,
    "INT": 4,
    "BOOLEAN": 1,
    "INT8": 1,
    "FLOAT2": 8,
    "INT16_2D": 4,
    "INT32_2D": 8,
    "FLOAT_VECTOR": 12,
    "BYTE_COLOR": 4,
    "FLOAT_COLOR": 16,
    "QUATERNION": 16,
    "FLOAT4X4": 64,
    # MStringProperty: a fixed 255-byte buffer plus its length byte, whatever the text.
    "STRING": 256,
}
UNKNOWN_TYPE_BYTES = 4
"""Assumed for a data type this table does not know (a newer Blender's): one scalar."""

# The mesh domains and which count sizes each.
MESH_DOMAINS = ("POINT", "EDGE", "CORNER", "FACE")

BUILTIN_MESH_ATTRIBUTES = frozenset({"position", ".edge_verts", ".corner_vert", ".corner_edge"})
"""Topology arrays that newer Blender lists among a mesh's attributes and older does not.

The topology layout always counts them, so a listed attribute of one of these names is
skipped: counted once on every version.
"""


@dataclass(frozen=True)
class TopologyLayout:
    """Bytes per element of a mesh's built-in topology arrays in one generation of Blender."""

    name: str
    per_vertex: int
    per_edge: int
    per_corner: int
    per_face: int
    face_offsets: bool  # an int offset per face, plus one (3.6+), instead of a face struct
    uv_per_corner: int  # a UV map that is not listed as an attribute (before 3.5)


# Blender 3.6+: position float3, .edge_verts int2, .corner_vert + .corner_edge int, face offsets.
LAYOUT_CURRENT = TopologyLayout("3.6+", 12, 8, 8, 0, True, 8)
# Blender 3.5: position float3; MEdge (12), MLoop (8) and MPoly (12) structs remain.
LAYOUT_3_5 = TopologyLayout("3.5", 12, 12, 8, 12, False, 8)
# Blender 3.4 and older: MVert (16: co + flags), MEdge (12), MLoop (8), MPoly (12); UV maps
# are MLoopUV structs (uv + flag, 12) and are not listed as attributes.
LAYOUT_LEGACY = TopologyLayout("3.4", 16, 12, 8, 12, False, 12)


def layout_for_version(version: Sequence[int]) -> TopologyLayout:
    """The mesh topology layout of Blender *version* (``bpy.app.version``)."""
    major_minor = tuple(version[:2])
    if major_minor >= (3, 6):
        return LAYOUT_CURRENT
    if major_minor == (3, 5):
        return LAYOUT_3_5
    return LAYOUT_LEGACY


@dataclass(frozen=True)
class AttributeLayer:
    """One attribute of a data-block, as ``Attribute.name``, ``.domain``, ``.data_type``."""

    name: str
    domain: str
    data_type: str


@dataclass(frozen=True)
class SizeEstimate:
    """An estimate of one data-block's memory: the total and where it comes from.

    ``parts`` names each contribution (``"topology"``, ``"attribute 'UVMap'"``, ``"pixels"``
    …) with its bytes; ``unknown`` lists data types or domains the model had to guess.
    """

    estimated_bytes: int
    parts: dict[str, int] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()
    detail: str = ""


def attribute_bytes(data_type: str) -> int:
    """Bytes per element of an attribute *data_type* (a guess for one this table lacks)."""
    return BYTES_PER_ELEMENT.get(data_type, UNKNOWN_TYPE_BYTES)


def estimate_mesh(
    vertices: int,
    edges: int,
    corners: int,
    faces: int,
    attributes: Iterable[AttributeLayer] = (),
    *,
    layout: TopologyLayout = LAYOUT_CURRENT,
    unlisted_uv_maps: int = 0,
    shape_keys: int = 0,
) -> SizeEstimate:
    """Estimate a mesh's arrays from its element counts and attribute layers.

    *attributes* are every listed attribute (internal ones such as ``.select_vert`` too);
    built-in topology names among them are skipped, since *layout* counts those.
    *unlisted_uv_maps* are UV maps that this Blender does not list as attributes (3.4).
    *shape_keys* is the number of shape key blocks: each holds a float3 per vertex.
    """
    sizes = {"POINT": vertices, "EDGE": edges, "CORNER": corners, "FACE": faces}
    topology = (
        vertices * layout.per_vertex
        + edges * layout.per_edge
        + corners * layout.per_corner
        + faces * layout.per_face
        + ((faces + 1) * 4 if layout.face_offsets and faces else 0)
    )
    parts = {"topology": topology}
    unknown: list[str] = []
    for layer in attributes:
        if layer.name in BUILTIN_MESH_ATTRIBUTES:
            continue
        if layer.domain not in sizes:
            unknown.append(f"domain {layer.domain}")
            continue
        if layer.data_type not in BYTES_PER_ELEMENT:
            unknown.append(f"type {layer.data_type}")
        parts[f"attribute {layer.name!r}"] = sizes[layer.domain] * attribute_bytes(layer.data_type)
    if unlisted_uv_maps:
        parts["UV maps"] = unlisted_uv_maps * corners * layout.uv_per_corner
    if shape_keys:
        parts["shape keys"] = shape_keys * vertices * 12
    detail = f"{vertices:,} vertices, {faces:,} faces"
    return SizeEstimate(sum(parts.values()), parts, tuple(unknown), detail)


def estimate_image(
    tile_sizes: Iterable[tuple[int, int]],
    channels: int,
    *,
    is_float: bool,
    loaded: bool,
) -> SizeEstimate:
    """Estimate an image's pixel buffers: width * height * channels * (4 if float else 1).

    *tile_sizes* is one ``(width, height)`` per tile (a single one for a plain image, one
    per UDIM tile). An image whose pixels are not *loaded* holds none: 0 bytes.
    """
    if not loaded:
        return SizeEstimate(0, {}, (), "not loaded")
    sizes = list(tile_sizes)
    per_pixel = channels * (4 if is_float else 1)
    pixels = sum(width * height for width, height in sizes) * per_pixel
    first = f"{sizes[0][0]}x{sizes[0][1]}" if sizes else "no pixels"
    tiles = f", {len(sizes)} tiles" if len(sizes) > 1 else ""
    kind = "float" if is_float else "byte"
    return SizeEstimate(pixels, {"pixels": pixels}, (), f"{first} {channels}ch {kind}{tiles}")


# sizeof(BezTriple): handles and control point (9 floats), tilt, weight, radius, flags,
# easing parameters.
BEZIER_POINT_BYTES = 72
# sizeof(BPoint): a float4 point, tilt, weight, flags, radius.
POINT_BYTES = 36
# Each NURBS spline also holds a float knot per point (plus its order).
KNOT_BYTES = 4
# sizeof(Nurb), the spline header.
SPLINE_BYTES = 88


def estimate_curve(
    splines: int,
    bezier_points: int,
    points: int,
    nurbs_points: int = 0,
) -> SizeEstimate:
    """Estimate a curve's (``bpy.data.curves``) control points.

    *bezier_points* are Bézier control points; *points* are poly and NURBS points
    (``spline.points``); *nurbs_points* is the part of *points* on NURBS splines, which
    also carry knots.
    """
    parts = {
        "splines": splines * SPLINE_BYTES,
        "bezier points": bezier_points * BEZIER_POINT_BYTES,
        "points": points * POINT_BYTES + nurbs_points * KNOT_BYTES,
    }
    detail = f"{splines:,} splines, {bezier_points + points:,} points"
    return SizeEstimate(sum(parts.values()), parts, (), detail)
