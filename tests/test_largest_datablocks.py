"""The largest data-blocks: ranking, users, tags, estimates against Blender's allocator, cost."""

import time

import bmesh
import bpy
import pytest

from leanroute.memory.blender_stats import blender_allocated_bytes
from leanroute.memory.datablock_owner import OWNER_KEY
from leanroute.memory.largest_datablocks import (
    DataBlockSize,
    estimate_datablock,
    largest_datablocks,
)

pytestmark = [pytest.mark.binary_compatible, pytest.mark.usefixtures("factory_scene")]


def grid_mesh(name: str, segments: int) -> "bpy.types.Mesh":
    bm = bmesh.new()
    try:
        bmesh.ops.create_grid(bm, x_segments=segments, y_segments=segments, size=1.0)
        mesh = bpy.data.meshes.new(name)
        bm.to_mesh(mesh)
    finally:
        bm.free()
    return mesh


def linked_object(name: str, data) -> "bpy.types.Object":
    obj = bpy.data.objects.new(name, data)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def by_name(rows: "list[DataBlockSize]") -> "dict[str, DataBlockSize]":
    return {row.name: row for row in rows}


def test_largest_first_with_users_tags_and_fake_users():
    big = grid_mesh("big grid", 200)  # about 2.5 MiB
    linked_object("Grid A", big)
    linked_object("Grid B", big)
    image = bpy.data.images.new("pixels", 256, 256, float_buffer=True)  # 1 MiB
    image.use_fake_user = True
    curve = bpy.data.curves.new("path", "CURVE")
    curve.splines.new("BEZIER").bezier_points.add(99)
    linked_object("Path", curve)
    small = grid_mesh("small grid", 4)
    small[OWNER_KEY] = "a build's token"
    linked_object("Small", small)

    rows = largest_datablocks(limit=4)

    assert [row.name for row in rows] == ["big grid", "pixels", "path", "small grid"]
    assert [row.estimated_bytes for row in rows] == sorted(
        (row.estimated_bytes for row in rows), reverse=True
    )
    grid, pixels, path, tagged = rows
    assert (grid.kind, grid.users, grid.user_names) == (
        "meshes",
        2,
        ("Object 'Grid A'", "Object 'Grid B'"),
    )
    assert not grid.fake_user and not grid.is_leanroute
    assert grid.detail == "40,401 vertices, 40,000 faces"
    assert (pixels.kind, pixels.estimated_bytes) == ("images", 256 * 256 * 4 * 4)
    assert pixels.fake_user and pixels.users == 1 and pixels.user_names == ()
    assert (path.kind, path.user_names) == ("curves", ("Object 'Path'",))
    assert tagged.is_leanroute and not grid.is_leanroute


def test_limit_and_kinds():
    for index in range(5):
        grid_mesh(f"grid {index}", 10 + index)
    bpy.data.images.new("pixels", 64, 64)
    rows = largest_datablocks(limit=3, kinds=("meshes",))
    assert [row.name for row in rows] == ["grid 4", "grid 3", "grid 2"]
    assert {row.kind for row in largest_datablocks(limit=100, kinds=("images",))} == {"images"}
    assert largest_datablocks(limit=0) == []
    with pytest.raises(ValueError, match="objects"):
        largest_datablocks(kinds=("objects",))


def test_an_image_not_loaded_counts_nothing_and_stays_unloaded(tmp_path):
    made = bpy.data.images.new("on disk", 512, 512)
    made.filepath_raw = str(tmp_path / "on_disk.png")
    made.file_format = "PNG"
    made.save()
    bpy.data.images.remove(made)
    image = bpy.data.images.load(str(tmp_path / "on_disk.png"))
    assert not image.has_data

    row = by_name(largest_datablocks(limit=50, kinds=("images",)))[image.name]

    assert (row.estimated_bytes, row.detail) == (0, "not loaded")
    assert not image.has_data, "measuring must not load the image from disk"


def test_the_estimate_follows_a_changed_mesh():
    mesh = grid_mesh("changing", 20)
    before = by_name(largest_datablocks(limit=50))["changing"].estimated_bytes
    mesh.attributes.new("paint", "FLOAT_COLOR", "CORNER")
    with_paint = by_name(largest_datablocks(limit=50))["changing"].estimated_bytes
    assert with_paint - before == len(mesh.loops) * 16
    mesh.attributes.remove(mesh.attributes["paint"])
    assert by_name(largest_datablocks(limit=50))["changing"].estimated_bytes == before


def _growth(make) -> "tuple[int, object]":
    before = blender_allocated_bytes()
    made = make()
    return blender_allocated_bytes() - before, made


@pytest.mark.parametrize("segments", [300, 400])
def test_a_mesh_estimate_matches_the_allocator_growth(segments):
    # The allocator figure is read to 0.1 MiB: these meshes are 5-15 MiB.
    bm = bmesh.new()
    bmesh.ops.create_grid(bm, x_segments=segments, y_segments=segments, size=1.0)
    bmesh.ops.subdivide_edges(bm, edges=bm.edges[:50], cuts=1)
    mesh = bpy.data.meshes.new("subdivided grid")
    grown, _ = _growth(lambda: bm.to_mesh(mesh))
    bm.free()
    estimate = estimate_datablock("meshes", mesh).estimated_bytes
    assert 0.8 < estimate / grown < 1.25, (estimate, grown)

    uv_grown, _ = _growth(lambda: mesh.uv_layers.new(name="UVMap"))
    color_grown, _ = _growth(lambda: mesh.attributes.new("paint", "FLOAT_COLOR", "CORNER"))
    with_layers = estimate_datablock("meshes", mesh).estimated_bytes
    assert 0.8 < (with_layers - estimate) / (uv_grown + color_grown) < 1.25


def test_image_and_curve_estimates_match_the_allocator_growth():
    grown, image = _growth(lambda: bpy.data.images.new("pixels", 1024, 1024, float_buffer=True))
    assert image.has_data
    assert 0.95 < estimate_datablock("images", image).estimated_bytes / grown < 1.05

    curve = bpy.data.curves.new("path", "CURVE")
    grown, _ = _growth(lambda: curve.splines.new("BEZIER").bezier_points.add(100_000))
    grown_nurbs, _ = _growth(lambda: curve.splines.new("NURBS").points.add(100_000))
    assert 0.9 < estimate_datablock("curves", curve).estimated_bytes / (grown + grown_nurbs) < 1.1


def test_the_cost_on_a_scene_of_2000_meshes():
    source = grid_mesh("source", 2)
    source.uv_layers.new(name="UVMap")
    for index in range(2000):
        linked_object(f"object {index}", source.copy())

    started = time.perf_counter()
    cold = largest_datablocks()
    cold_seconds = time.perf_counter() - started
    started = time.perf_counter()
    warm = largest_datablocks()
    warm_seconds = time.perf_counter() - started

    assert cold == warm
    assert len(warm) == 8
    # Measured about 80 ms cold and 11 ms warm (bpy 5.0.1); bounds leave room for slow CI.
    assert cold_seconds < 1.0, cold_seconds
    assert warm_seconds < 0.25, warm_seconds
