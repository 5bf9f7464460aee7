"""Stage boundaries: figures, orphan cleanup, rollback, budgets, gc restore, caches."""

import gc
import json

import bmesh
import bpy
import pytest
from helpers.scene import fingerprint

from leanroute.memory import (
    BoundedCache,
    CleanupPolicy,
    GCPolicy,
    MemoryBudget,
    MemoryBudgetExceeded,
    MemoryBudgetForecast,
    Pipeline,
    PipelineReport,
    StageForecast,
    stage,
)
from leanroute.memory.process_memory import rss_bytes
from leanroute.memory.report_table import HEADERS
from leanroute.memory.units import MIB

pytestmark = [pytest.mark.binary_compatible, pytest.mark.usefixtures("factory_scene")]


def _build_objects(count: int = 3, prefix: str = "built") -> None:
    material = bpy.data.materials.new(f"{prefix}-material")
    for index in range(count):
        mesh = bpy.data.meshes.new(f"{prefix}-{index}")
        mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
        mesh.materials.append(material)
        obj = bpy.data.objects.new(f"{prefix}-{index}", mesh)
        bpy.context.scene.collection.objects.link(obj)


def _remove_objects(prefix: str = "built") -> None:
    for obj in [o for o in bpy.data.objects if o.name.startswith(prefix)]:
        bpy.data.objects.remove(obj)


def test_every_stage_records_before_peak_after_and_time():
    pipeline = Pipeline("figures")
    with pipeline, pipeline.stage("build") as build:
        _build_objects()
        build.checkpoint()
    report = pipeline.report.stages[0]
    assert report.status == "ok"
    for snapshot in (report.before, report.after):
        assert snapshot.rss > 50 * MIB
        assert snapshot.uss > 10 * MIB
        assert snapshot.blender > 1 * MIB
        assert snapshot.live_bmeshes == 0
    assert report.after.datablocks["objects"] == report.before.datablocks["objects"] + 3
    assert report.peak.rss >= max(report.before.rss, report.after.rss) - 1 * MIB
    assert report.peak.blender >= report.before.blender
    assert report.wall_seconds > 0
    assert report.created_datablocks == {"materials": 1, "meshes": 3, "objects": 3}
    assert report.before.python_heap is None  # tracemalloc is opt-in


def test_python_heap_is_traced_when_asked():
    pipeline = Pipeline("traced", policy=CleanupPolicy(trace_python=True))
    with pipeline.stage("alloc"):
        blob = [bytes(1000) for _ in range(10_000)]
        del blob
    peak = pipeline.report.stages[0].peak.python_heap
    assert peak > 10_000_000 - 1


def test_objects_removed_without_cleanup_leave_orphan_meshes():
    pipeline = Pipeline("no hygiene", policy=CleanupPolicy.off())
    bpy.data.meshes.new("user orphan")
    with pipeline.stage("build"):
        _build_objects()
    with pipeline.stage("remove"):
        _remove_objects()
    orphans = sorted(m.name for m in bpy.data.meshes if m.users == 0)
    assert orphans == ["built-0", "built-1", "built-2", "user orphan"]


def test_cleanup_removes_the_pipelines_orphans_and_keeps_the_users():
    pipeline = Pipeline("hygiene")
    bpy.data.meshes.new("user orphan")
    with pipeline.stage("build"):
        _build_objects()
    with pipeline.stage("remove"):
        _remove_objects()
    assert sorted(m.name for m in bpy.data.meshes if m.users == 0) == ["user orphan"]
    assert "built-material" not in bpy.data.materials  # recursively: mesh, then material
    removed = pipeline.report.stages[1].cleanup.orphans_removed
    assert removed == {"meshes": 3, "materials": 1}


def test_cleanup_never_removes_the_users_data_even_at_a_reused_address():
    pipeline = Pipeline("owner")
    with pipeline.stage("build"):
        mesh = bpy.data.meshes.new("ours")
        bpy.data.objects.new("ours", mesh)  # unlinked: an orphan object
    assert "ours" not in bpy.data.objects
    user_mesh = bpy.data.meshes.new("theirs")
    user_mesh["leanroute_owner"] = "someone else"
    with pipeline.stage("next"):
        pass
    assert "theirs" in bpy.data.meshes


def test_a_kept_data_block_survives_as_an_orphan():
    pipeline = Pipeline("keep")
    with pipeline.stage("build") as build:
        build.keep(bpy.data.meshes.new("template"))
    assert "template" in bpy.data.meshes


def test_global_purge_only_when_asked():
    bpy.data.meshes.new("user orphan")
    with stage("default"):
        pass
    assert "user orphan" in bpy.data.meshes
    with stage("purge", policy=CleanupPolicy(purge_all_orphans=True)) as purge:
        pass
    assert "user orphan" not in bpy.data.meshes
    assert purge.report.cleanup.orphans_purged >= 1


def test_a_stage_that_raises_leaves_the_scene_exactly_as_before():
    scene = bpy.context.scene
    before = fingerprint()
    with pytest.raises(RuntimeError) as raised, stage("fails") as failing:
        failing.on_rollback(lambda end=scene.frame_end: setattr(scene, "frame_end", end))
        scene.frame_end = 999
        _build_objects()
        collection = bpy.data.collections.new("built collection")
        scene.collection.children.link(collection)
        bpy.data.objects["Cube"].data.materials.append(bpy.data.materials["built-material"])
        raise RuntimeError("broken input")
    assert fingerprint() == before
    report = failing.report
    assert report.status == "failed"
    assert report.rollback.removed == {
        "collections": 1,
        "materials": 1,
        "meshes": 3,
        "objects": 3,
    }
    assert "rolled back" in raised.value.__notes__[0]


def test_without_a_stage_the_same_failure_leaves_a_half_built_scene():
    before = fingerprint()
    with pytest.raises(RuntimeError):
        _build_objects()
        raise RuntimeError("broken input")
    assert fingerprint() != before


def test_a_hard_budget_stops_a_runaway_stage_with_the_documented_error():
    start = rss_bytes()
    hold = []
    pipeline = Pipeline("budget", budget=MemoryBudget(hard=start + 150 * MIB))
    with pytest.raises(MemoryBudgetExceeded) as raised, pipeline.stage("runaway"):
        bpy.data.meshes.new("made by the runaway stage")
        while True:  # runs until the budget stops it
            hold.append(b"x" * (4 * MIB))
    error = raised.value
    assert error.stage == "runaway"
    assert error.limit == start + 150 * MIB
    assert error.reached > error.limit
    message = str(error)
    assert "stage 'runaway' stopped" in message
    assert "over the hard budget" in message
    assert "rolled back" in message and "Try" in message
    assert len(hold) * 4 * MIB < 400 * MIB  # stopped soon after crossing the line
    assert "made by the runaway stage" not in bpy.data.meshes
    assert pipeline.report.stages[0].status == "stopped"
    hold.clear()


def test_the_budget_stop_is_not_swallowed_by_except_exception():
    hold = []
    pipeline = Pipeline("budget", budget=MemoryBudget(hard=rss_bytes() + 100 * MIB))
    with pytest.raises(MemoryBudgetExceeded), pipeline.stage("stubborn"):
        while True:
            try:
                hold.append(b"y" * (4 * MIB))
            except Exception:
                continue
    hold.clear()


def test_a_checkpoint_stops_over_the_hard_budget():
    pipeline = Pipeline("checkpoint", budget=MemoryBudget(hard=rss_bytes() + 50 * MIB))
    with pytest.raises(MemoryBudgetExceeded), pipeline.stage("loop") as loop:
        pipeline.sampler.remove_watcher(loop._watch)  # only the checkpoint can stop it now
        hold = [b"z" * (100 * MIB)]
        loop.checkpoint()
    del hold


def test_a_stage_forecast_over_the_hard_budget_refuses_before_the_body_runs():
    start = rss_bytes()
    pipeline = Pipeline("forecast", budget=MemoryBudget(hard=start + 200 * MIB))
    need = StageForecast(500 * MIB, "estimated from 1,000,000 buildings")
    ran = []
    with (
        pipeline,
        pytest.raises(MemoryBudgetForecast) as raised,
        pipeline.stage("buildings", forecast=need),
    ):
        ran.append(True)
    error = raised.value
    assert ran == [] and isinstance(error, MemoryBudgetExceeded)
    assert error.stage == "buildings" and error.limit == start + 200 * MIB
    assert error.forecast == need and error.reached == error.rss + need.bytes
    message = str(error)
    assert message.startswith("stage 'buildings' not started: it is estimated to need 500.0 MiB")
    assert "estimated from 1,000,000 buildings" in message and "Nothing was built" in message
    # A forecast that fits runs, and the report keeps it beside what the stage really took.
    with pipeline, pipeline.stage("small", forecast=StageForecast(MIB, "a guess")):
        pass
    small = pipeline.report.stages[-1]
    assert small.status == "ok" and (small.forecast, small.forecast_basis) == (MIB, "a guess")
    # The same check for several coming stages at once names the first that would not fit.
    with pytest.raises(MemoryBudgetForecast, match="stage 'roads' not started"):
        pipeline.check_forecasts({"parse": StageForecast(MIB, "x"), "roads": need})


def test_without_a_budget_the_default_is_a_share_of_available_memory():
    pipeline = Pipeline("default budget")
    assert pipeline.budget == MemoryBudget.default()
    with pipeline, pipeline.stage("one"):
        pass
    hard = pipeline.report.stages[0].budget_hard
    assert hard is not None and hard > rss_bytes()
    # An explicit MemoryBudget() is no budget at all.
    unlimited = Pipeline("none", budget=MemoryBudget())
    with unlimited, unlimited.stage("one"):
        pass
    assert unlimited.report.stages[0].budget_hard is None


def test_a_hard_budget_as_a_fraction_of_available_memory():
    budget = MemoryBudget(hard_fraction=0.5)
    resolved = budget.resolve(rss=1000, available=3000)
    assert resolved.hard == 2000
    assert "50%" in resolved.how


def test_a_soft_budget_triggers_an_extra_cleanup():
    cache = BoundedCache("soft-test", scope="session")
    try:
        pipeline = Pipeline("soft", budget=MemoryBudget(soft=rss_bytes() + 30 * MIB))
        with pipeline.stage("big"):
            cache["blob"] = b"s" * (60 * MIB)
        cleanup = pipeline.report.stages[0].cleanup
        assert cleanup.soft_limit_cleanups >= 1
        assert "soft-test" in cleanup.caches_cleared
        assert len(cache) == 0
    finally:
        cache.clear()


def test_stage_caches_are_cleared_at_the_boundary_session_caches_are_not():
    stage_cache = BoundedCache("per-stage", scope="stage")
    session_cache = BoundedCache("per-session", scope="session")
    with stage("fill") as fill:
        stage_cache["a"] = 1
        session_cache["a"] = 1
    assert len(stage_cache) == 0
    assert len(session_cache) == 1
    assert "per-stage" in fill.report.cleanup.caches_cleared


@pytest.mark.parametrize("mode", ["tuned", "disabled"])
def test_gc_policy_applies_inside_and_is_restored_on_exception(mode):
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    policy = GCPolicy(mode=mode, freeze=True)
    with pytest.raises(ValueError), Pipeline(gc_policy=policy).stage("heavy"):
        if mode == "tuned":
            assert gc.get_threshold() == policy.thresholds
        else:
            assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
        raise ValueError
    assert (gc.get_threshold(), gc.isenabled()) == (thresholds, enabled)
    assert gc.get_freeze_count() == 0


def test_nested_stages_each_get_their_own_report():
    pipeline = Pipeline("nested")
    with pipeline, pipeline.stage("outer"):
        with pipeline.stage("inner"):
            _build_objects(1, "inner")
        _build_objects(1, "outer")
    outer, inner = pipeline.report.stages
    assert (outer.name, inner.name) == ("outer", "inner")
    assert inner.created_datablocks == {"materials": 1, "meshes": 1, "objects": 1}
    assert outer.peak.rss >= inner.peak.rss - 1 * MIB


def test_report_round_trips_through_json_and_prints_a_table():
    pipeline = Pipeline("round trip")
    with pipeline.stage("one"):
        _build_objects(1)
    with pytest.raises(KeyError), pipeline.stage("two"):
        raise KeyError("missing")
    text = pipeline.report.to_json()
    again = PipelineReport.from_dict(json.loads(text))
    assert json.loads(again.to_json()) == json.loads(text)
    assert again.stages == pipeline.report.stages
    table = again.table()
    assert tuple(table.splitlines()[1].split()) == HEADERS
    assert "two: failed: KeyError: 'missing'" in table


def test_a_stage_whose_exit_never_ran_is_closed_by_its_pipeline():
    original = bmesh.new
    pipeline = Pipeline("abandoned")
    with pipeline:
        stopped = pipeline.stage("escaped")
        stopped.__enter__()  # as if a stop fired before __exit__ could run
        kept = bmesh.new()
        bpy.data.meshes.new("made by the escaped stage")
    assert bmesh.new is original
    assert not kept.is_valid
    assert "made by the escaped stage" not in bpy.data.meshes
    assert stopped.report.status == "stopped"
    assert not pipeline.sampler.running
