"""The ledger counts BMeshes gc cannot see; a guarded stage sweeps what code leaks."""

import sys

import bmesh
import pytest
from helpers.scene import big_bmesh, fill_grid, settled_rss

from leanroute.memory import Pipeline, live_bmeshes, new_bmesh
from leanroute.memory.bmesh_ledger import BMeshLedger, _stack, find_untracked_bmeshes
from leanroute.memory.units import MIB

pytestmark = pytest.mark.binary_compatible
THIS_FILE = __file__


def _stage_report(body, **options):
    pipeline = Pipeline("ledger", **options)
    with pipeline.stage("work"):
        body()
    return pipeline.report.stages[0]


def test_direct_bmesh_new_in_a_stage_is_recorded_with_its_site_and_swept():
    kept = []

    def leaky():
        kept.append(bmesh.new())  # the leak site
        kept.append(bmesh.new())
        bmesh.new().free()

    report = _stage_report(leaky)
    line = leaky.__code__.co_firstlineno + 1
    sites = [leak.site for leak in report.leaks]
    assert sites == [f"{THIS_FILE}:{line}", f"{THIS_FILE}:{line + 1}"]
    assert (report.bmeshes.created, report.bmeshes.freed, report.bmeshes.swept) == (3, 1, 2)
    assert not any(bm.is_valid for bm in kept)
    assert live_bmeshes() == 0


def test_from_mesh_on_a_direct_bmesh_is_covered_and_leak_sizes_are_reported():
    kept = []

    def leaky():
        bm = bmesh.new()
        fill_grid(bm, 10)
        kept.append(bm)

    report = _stage_report(leaky)
    assert (report.leaks[0].verts, report.leaks[0].faces) == (121, 100)


def test_dropped_bmeshes_are_released_not_reported_as_leaks():
    def careless():
        for _ in range(5):
            bm = bmesh.new()
            bm.verts.new((0, 0, 0))
            del bm  # no free(): the last reference dies

    report = _stage_report(careless)
    assert report.leaks == []
    assert report.bmeshes.released == 5
    assert report.bmeshes.peak_live <= 2


def test_the_ledger_keeps_no_bmesh_past_its_stage():
    ledger = BMeshLedger("probe")
    bm = ledger.new("here")
    assert sys.getrefcount(bm) == 3  # bm, the ledger, getrefcount's argument
    ledger.sweep()
    assert sys.getrefcount(bm) == 2
    assert not bm.is_valid
    assert ledger.live == 0


def test_bmesh_new_is_restored_after_the_stage_and_on_exception():
    original = bmesh.new
    with pytest.raises(KeyError), Pipeline().stage("fails"):
        assert bmesh.new is not original
        raise KeyError("x")
    assert bmesh.new is original
    assert _stack == []


def test_leaky_loop_in_a_guarded_stage_leaves_rss_flat_the_unguarded_one_does_not():
    kept = []
    before = settled_rss()
    for _ in range(30):
        kept.append(big_bmesh())
    unguarded = settled_rss() - before
    for bm in kept:
        bm.free()
    kept.clear()

    before = settled_rss()
    report = _stage_report(lambda: kept.extend(big_bmesh() for _ in range(30)))
    guarded = settled_rss() - before

    assert unguarded > 200 * MIB
    assert guarded < 20 * MIB
    assert len(report.leaks) == 30
    assert report.peak.rss - report.before.rss > 200 * MIB
    assert report.cleanup.rss_freed > 200 * MIB


def test_scoped_bmeshes_are_counted_live_while_open():
    with new_bmesh(), new_bmesh():
        assert live_bmeshes() == 2
    assert live_bmeshes() == 0


def test_untracked_scan_finds_copies_only_when_asked():
    kept = []

    def copies():
        with new_bmesh() as bm:
            kept.append(bm.copy())  # BMesh.copy() cannot be intercepted

    assert _stage_report(copies).leaks == []
    assert kept[0].is_valid
    assert find_untracked_bmeshes() == [kept[0]]
    kept[0].free()

    from leanroute.memory import CleanupPolicy

    report = _stage_report(copies, policy=CleanupPolicy(scan_untracked_bmeshes=True))
    assert [leak.site for leak in report.leaks] == ["unknown (not created through bmesh.new)"]
    assert not kept[1].is_valid
