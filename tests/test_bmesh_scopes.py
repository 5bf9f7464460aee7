"""BMesh scopes free their BMesh on every exit path; misuse gets a clear error, not a crash."""

import bmesh
import bpy
import pytest
from helpers.scene import fill_grid, settled_rss

from leanroute.memory import (
    BMeshScopeError,
    MeshRemovedError,
    bmesh_from_mesh,
    bmesh_from_object,
    edit_bmesh,
    live_bmeshes,
    new_bmesh,
)
from leanroute.memory.units import MIB

pytestmark = [pytest.mark.binary_compatible, pytest.mark.usefixtures("factory_scene")]


class Boom(Exception):  # noqa: N818
    pass


@pytest.mark.bmesh_leak_free
def test_new_bmesh_is_freed_on_success_and_on_exception():
    with new_bmesh() as bm:
        bm.verts.new((0, 0, 0))
        assert bm.is_valid
    assert not bm.is_valid
    with pytest.raises(Boom), new_bmesh() as failing:
        raise Boom
    assert not failing.is_valid
    assert live_bmeshes() == 0


def test_a_bmesh_without_a_scope_stays_alive_the_failing_counterpart():
    bm = bmesh.new()
    try:
        raise Boom
    except Boom:
        pass
    assert bm.is_valid  # nothing freed it: only its last reference dying would
    bm.free()


def test_loop_keeping_bmeshes_grows_rss_by_hundreds_of_mb_but_not_in_scopes():
    kept = []
    before = settled_rss()
    for _ in range(30):
        bm = bmesh.new()
        fill_grid(bm)
        kept.append(bm)
    unscoped_growth = settled_rss() - before
    for bm in kept:
        bm.free()
    kept.clear()

    before = settled_rss()
    for _ in range(30):
        with new_bmesh() as bm:
            fill_grid(bm)
            kept.append(bm)  # the reference survives, the BMesh does not
    scoped_growth = settled_rss() - before

    assert unscoped_growth > 200 * MIB
    assert scoped_growth < 20 * MIB
    assert not any(bm.is_valid for bm in kept)


def test_from_mesh_writes_back_on_success_only():
    mesh = bpy.data.meshes["Cube"]
    with bmesh_from_mesh(mesh, write_back=True) as bm:
        bmesh.ops.triangulate(bm, faces=bm.faces[:])
    assert len(mesh.polygons) == 12
    with pytest.raises(Boom), bmesh_from_mesh(mesh, write_back=True) as bm:
        bmesh.ops.subdivide_edges(bm, edges=bm.edges[:], cuts=2)
        raise Boom
    assert len(mesh.polygons) == 12
    assert not bm.is_valid


def test_from_mesh_without_write_back_leaves_the_mesh_alone():
    mesh = bpy.data.meshes["Cube"]
    with bmesh_from_mesh(mesh) as bm:
        bmesh.ops.triangulate(bm, faces=bm.faces[:])
    assert len(mesh.polygons) == 6


def test_writing_back_to_a_removed_mesh_is_a_clear_error():
    mesh = bpy.data.meshes.new("temporary")
    with pytest.raises(MeshRemovedError, match=r"'temporary'.*removed"):  # noqa: SIM117
        with bmesh_from_mesh(mesh, write_back=True) as bm:
            bpy.data.meshes.remove(mesh)
    assert not bm.is_valid
    assert live_bmeshes() == 0


def test_writing_back_to_a_renamed_mesh_finds_it():
    mesh = bpy.data.meshes["Cube"]
    with bmesh_from_mesh(mesh, write_back=True) as bm:
        mesh.name = "Renamed"
        bmesh.ops.triangulate(bm, faces=bm.faces[:])
    assert len(bpy.data.meshes["Renamed"].polygons) == 12


def test_using_the_bmesh_after_its_scope_is_an_error_not_a_crash():
    scope = new_bmesh()
    with scope as bm:
        bm.verts.new((1, 2, 3))
    with pytest.raises(ReferenceError):
        bm.verts  # noqa: B018 - Blender's own check on a freed BMesh
    with pytest.raises(BMeshScopeError, match="freed when its scope closed"):
        scope.bm  # noqa: B018


@pytest.mark.bmesh_leak_free
def test_scopes_nest_and_each_frees_its_own():
    with new_bmesh() as outer:
        with bmesh_from_mesh(bpy.data.meshes["Cube"]) as inner:
            assert live_bmeshes() == 2
            assert len(inner.verts) == 8
        assert not inner.is_valid
        assert outer.is_valid
        assert live_bmeshes() == 1
    assert not outer.is_valid
    assert live_bmeshes() == 0


@pytest.mark.bmesh_leak_free
def test_from_object_reads_the_evaluated_mesh():
    cube = bpy.data.objects["Cube"]
    cube.modifiers.new("subdivide", "SUBSURF").levels = 1
    with bmesh_from_object(cube) as bm:
        assert len(bm.verts) == 26  # 8 corners + 12 edge + 6 face points
    assert not bm.is_valid
    assert len(cube.data.vertices) == 8


def test_edit_mode_scope_updates_and_never_frees_blenders_wrapper():
    cube = bpy.data.objects["Cube"]
    bpy.context.view_layer.objects.active = cube
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        with edit_bmesh(cube) as bm:
            bmesh.ops.subdivide_edges(bm, edges=bm.edges[:], cuts=1)
        assert bm.is_valid  # the shared wrapper survives the scope
        with pytest.raises(Boom), edit_bmesh(cube) as again:
            raise Boom
        assert again.is_valid
        assert len(bmesh.from_edit_mesh(cube.data).verts) == 20  # 8 + one per edge
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
    assert len(cube.data.vertices) == 20


def test_edit_mode_scope_outside_edit_mode_says_what_to_do():
    with pytest.raises(BMeshScopeError, match="not in edit mode"):
        edit_bmesh(bpy.data.objects["Cube"])


def test_wrong_argument_types_are_named():
    with pytest.raises(TypeError, match=r"bpy\.types\.Mesh"):
        bmesh_from_mesh(bpy.data.objects["Cube"])
    with pytest.raises(TypeError, match=r"bpy\.types\.Object"):
        bmesh_from_object(bpy.data.meshes["Cube"])
