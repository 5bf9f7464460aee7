"""leak_check() flags a deliberate leak of each kind and passes clean code."""

import bmesh
import bpy
import pytest

from leanroute.memory import bmesh_from_mesh, leak_check, new_bmesh
from leanroute.memory.units import MIB

pytestmark = [pytest.mark.binary_compatible, pytest.mark.usefixtures("factory_scene")]


def test_clean_code_is_flat():
    def clean():
        mesh = bpy.data.meshes.new("temporary")
        with bmesh_from_mesh(mesh, write_back=True) as bm:
            bmesh.ops.create_grid(bm, x_segments=50, y_segments=50, size=1)
        bpy.data.meshes.remove(mesh)

    report = leak_check(clean, runs=5)
    assert report.verdict == "flat", report.summary()
    assert report.flat


def test_leaking_data_blocks_is_flagged_by_type():
    report = leak_check(lambda: bpy.data.meshes.new("leak"), runs=5)
    assert report.verdict == "growing"
    assert report.growth["datablocks"] == pytest.approx(1.0)
    assert "bpy.data.meshes grows by 1.00 per run" in report.reasons


def test_leaking_bmeshes_is_flagged_in_memory_and_in_the_count():
    kept = []

    def leak():
        with new_bmesh():  # freed: fine
            pass
        bm = bmesh.new()
        bmesh.ops.create_grid(bm, x_segments=120, y_segments=120, size=1)
        kept.append(bm)

    report = leak_check(leak, runs=5)
    try:
        assert report.verdict == "growing"
        assert report.growth["blender"] > 5 * MIB
        assert report.growth["rss"] > 5 * MIB
        assert len(report.deltas("rss")) == 5
    finally:
        for bm in kept:
            bm.free()


def test_python_growth_names_the_allocation_site():
    kept = []

    def leak():
        kept.append(b"x" * (2 * MIB))  # written, so resident under any allocator

    report = leak_check(leak, runs=4, trace_python=True)
    assert report.verdict == "growing"
    assert report.growth["rss"] > 1 * MIB
    assert "test_leak_check.py" in report.top_python_growth[0].site
    assert "leak check over 4 runs: GROWING" in report.summary()


def test_runs_must_allow_a_fit():
    with pytest.raises(ValueError, match="at least 2 runs"):
        leak_check(lambda: None, runs=1)
