"""The data-block size model: bytes from plain counts (no Blender needed)."""

import pytest

from leanroute.memory.datablock_size_model import (
    BYTES_PER_ELEMENT,
    LAYOUT_3_5,
    LAYOUT_CURRENT,
    LAYOUT_LEGACY,
    AttributeLayer,
    estimate_curve,
    estimate_image,
    estimate_mesh,
    layout_for_version,
)

pytestmark = pytest.mark.binary_compatible

# A 2 x 2 grid: 9 vertices, 12 edges, 16 corners, 4 faces.
GRID = (9, 12, 16, 4)
BUILTINS_5_0 = [
    AttributeLayer("position", "POINT", "FLOAT_VECTOR"),
    AttributeLayer(".edge_verts", "EDGE", "INT32_2D"),
    AttributeLayer(".corner_vert", "CORNER", "INT"),
    AttributeLayer(".corner_edge", "CORNER", "INT"),
]


def test_topology_of_current_blender():
    estimate = estimate_mesh(*GRID)
    # position 12/vertex, .edge_verts 8/edge, two ints/corner, an offset per face plus one.
    assert estimate.estimated_bytes == 9 * 12 + 12 * 8 + 16 * 8 + 5 * 4
    assert estimate.parts == {"topology": estimate.estimated_bytes}
    assert estimate.detail == "9 vertices, 4 faces"


def test_builtins_listed_as_attributes_are_counted_once():
    # 4.x/5.0 list the topology arrays as attributes; 3.4 lists none of them.
    listed = estimate_mesh(*GRID, BUILTINS_5_0)
    assert listed.estimated_bytes == estimate_mesh(*GRID).estimated_bytes
    assert list(listed.parts) == ["topology"]


@pytest.mark.parametrize(
    ("data_type", "size"),
    [
        ("FLOAT", 4),
        ("FLOAT_VECTOR", 12),
        ("FLOAT_COLOR", 16),
        ("BYTE_COLOR", 4),
        ("INT", 4),
        ("BOOLEAN", 1),
        ("FLOAT2", 8),
        ("INT8", 1),
        ("INT16_2D", 4),
        ("INT32_2D", 8),
        ("QUATERNION", 16),
        ("FLOAT4X4", 64),
        ("STRING", 256),
    ],
)
def test_attribute_bytes_per_element(data_type, size):
    assert BYTES_PER_ELEMENT[data_type] == size
    on_corners = estimate_mesh(*GRID, [AttributeLayer("layer", "CORNER", data_type)])
    assert on_corners.parts["attribute 'layer'"] == 16 * size


def test_each_domain_multiplies_by_its_own_count():
    layers = [
        AttributeLayer("weight", "POINT", "FLOAT"),
        AttributeLayer("crease", "EDGE", "FLOAT"),
        AttributeLayer("UVMap", "CORNER", "FLOAT2"),
        AttributeLayer("sharp_face", "FACE", "BOOLEAN"),
    ]
    parts = estimate_mesh(*GRID, BUILTINS_5_0 + layers).parts
    assert parts["attribute 'weight'"] == 9 * 4
    assert parts["attribute 'crease'"] == 12 * 4
    assert parts["attribute 'UVMap'"] == 16 * 8
    assert parts["attribute 'sharp_face'"] == 4


def test_an_unknown_type_is_guessed_and_reported():
    estimate = estimate_mesh(*GRID, [AttributeLayer("future", "POINT", "FLOAT16_3D")])
    assert estimate.parts["attribute 'future'"] == 9 * 4
    assert estimate.unknown == ("type FLOAT16_3D",)


def test_a_non_mesh_domain_is_skipped_and_reported():
    estimate = estimate_mesh(*GRID, [AttributeLayer("odd", "INSTANCE", "FLOAT")])
    assert "attribute 'odd'" not in estimate.parts
    assert estimate.unknown == ("domain INSTANCE",)


def test_legacy_layout_and_unlisted_uv_maps():
    estimate = estimate_mesh(*GRID, layout=LAYOUT_LEGACY, unlisted_uv_maps=2)
    # MVert 16, MEdge 12, MLoop 8, MPoly 12; MLoopUV 12 per corner.
    assert estimate.parts["topology"] == 9 * 16 + 12 * 12 + 16 * 8 + 4 * 12
    assert estimate.parts["UV maps"] == 2 * 16 * 12


def test_shape_keys_hold_a_float3_per_vertex_each():
    assert estimate_mesh(*GRID, shape_keys=3).parts["shape keys"] == 3 * 9 * 12


def test_an_empty_mesh_holds_nothing():
    assert estimate_mesh(0, 0, 0, 0).estimated_bytes == 0


@pytest.mark.parametrize(
    ("version", "layout"),
    [
        ((3, 4, 1), LAYOUT_LEGACY),
        ((3, 5, 0), LAYOUT_3_5),
        ((3, 6, 5), LAYOUT_CURRENT),
        ((4, 2, 0), LAYOUT_CURRENT),
        ((5, 0, 1), LAYOUT_CURRENT),
    ],
)
def test_layout_for_version(version, layout):
    assert layout_for_version(version) is layout


def test_image_bytes():
    assert estimate_image([(1024, 512)], 4, is_float=False, loaded=True).estimated_bytes == (
        1024 * 512 * 4
    )
    floats = estimate_image([(1024, 512)], 4, is_float=True, loaded=True)
    assert floats.estimated_bytes == 1024 * 512 * 4 * 4
    assert floats.detail == "1024x512 4ch float"


def test_an_image_not_loaded_holds_no_pixels():
    estimate = estimate_image([(4096, 4096)], 4, is_float=True, loaded=False)
    assert estimate.estimated_bytes == 0
    assert estimate.detail == "not loaded"


def test_udim_tiles_add_up():
    estimate = estimate_image([(1024, 1024), (512, 512)], 3, is_float=False, loaded=True)
    assert estimate.estimated_bytes == (1024 * 1024 + 512 * 512) * 3
    assert estimate.detail.endswith("2 tiles")


def test_curve_points():
    estimate = estimate_curve(splines=2, bezier_points=10, points=20, nurbs_points=5)
    assert estimate.estimated_bytes == 2 * 88 + 10 * 72 + 20 * 36 + 5 * 4
    assert estimate.detail == "2 splines, 30 points"
