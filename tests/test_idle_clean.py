"""The idle auto-clean: its decision (plain), Blender's idle facts, one clean, the timer."""

from types import SimpleNamespace

import bpy
import pytest
from helpers.blender_state import diff, snapshot

from leanroute.memory import idle_clean
from leanroute.memory.bounded_cache import BoundedCache
from leanroute.memory.datablock_owner import OWNER_KEY
from leanroute.memory.idle_policy import (
    MAX_WAIT_SECONDS,
    POLL_SECONDS,
    CleanResult,
    IdleFacts,
    next_check_in,
    parse_budget,
    should_clean,
)
from leanroute.memory.units import MIB

pytestmark = pytest.mark.binary_compatible

IDLE = IdleFacts()
GIB = 1024 * MIB


def decide(facts=IDLE, **overrides):
    arguments = {
        "enabled": True,
        "now": 1000.0,
        "last_clean": None,
        "interval_s": 30.0,
        "rss": 2 * GIB,
        "soft_budget": GIB,
    }
    arguments.update(overrides)
    return should_clean(facts, **arguments)


# --- the decision, without Blender -------------------------------------------------------


def test_cleans_when_idle_and_over_the_soft_budget():
    decision = decide()
    assert decision.clean
    assert "over the soft budget 1.0 GiB" in decision.reason


@pytest.mark.parametrize(
    ("facts", "overrides", "reason"),
    [
        (IDLE, {"enabled": False}, "auto-clean is off"),
        (IDLE, {"last_clean": 990.0}, "cleaned 10 s ago"),
        (IdleFacts(build_running=True), {}, "build is running"),
        (IdleFacts(animation_playing=True), {}, "animation is playing"),
        (IdleFacts(jobs_running=("RENDER",)), {}, "a job is running (RENDER)"),
        (IdleFacts(mode="EDIT_MESH"), {}, "not in Object Mode (EDIT_MESH)"),
        (IDLE, {"rss": GIB // 2}, "within the soft budget"),
        (IDLE, {"rss": None}, "RSS cannot be read"),
    ],
)
def test_does_not_clean(facts, overrides, reason):
    decision = decide(facts, **overrides)
    assert not decision.clean
    assert reason in decision.reason


def test_the_interval_counts_from_the_last_clean():
    assert not decide(last_clean=971.0).clean
    assert decide(last_clean=970.0).clean


def test_without_a_soft_budget_it_never_cleans_and_says_why():
    decision = decide(soft_budget=None, rss=None)
    assert not decision.clean and "no soft budget set" in decision.reason


def test_parse_budget():
    assert parse_budget("") is None
    assert parse_budget("  ") is None
    assert parse_budget("1.5 GB") == 1536 * MIB
    with pytest.raises(ValueError, match="20 MB"):
        parse_budget("lots")


def test_next_check_in():
    assert next_check_in(enabled=False, now=0, last_clean=None, interval_s=30) == MAX_WAIT_SECONDS
    assert next_check_in(enabled=True, now=0, last_clean=None, interval_s=30) == POLL_SECONDS
    assert next_check_in(enabled=True, now=0, last_clean=None, interval_s=2) == 2
    # Sleeps through the interval that is still running, a bounded step at a time.
    assert next_check_in(enabled=True, now=100, last_clean=97, interval_s=30) == MAX_WAIT_SECONDS
    assert next_check_in(enabled=True, now=100, last_clean=75, interval_s=30) == 5


def test_clean_result_figures():
    result = CleanResult(
        finished_at=0.0,
        trigger="idle",
        seconds=0.1,
        rss_before=300 * MIB,
        rss_after=180 * MIB,
        orphans_removed={"meshes": 2, "materials": 1},
        caches_cleared=1,
    )
    assert result.rss_freed == 120 * MIB
    assert result.orphans_total == 3
    assert result.summary() == "freed 120.0 MiB RSS, removed 3 build orphans, 1 cache cleared"
    assert result.to_dict()["rss_freed"] == 120 * MIB
    assert CleanResult(0.0, "manual", 0.0, None, 5).rss_freed == 0


# --- in Blender --------------------------------------------------------------------------


@pytest.fixture
def fresh_state(factory_scene, monkeypatch):
    """No clean has run yet, whatever other tests did."""
    monkeypatch.setattr(idle_clean, "_last_clean", None)
    monkeypatch.setattr(idle_clean, "_last_result", None)
    monkeypatch.setattr(idle_clean, "_last_decision", None)
    return factory_scene


@pytest.fixture
def preferences(monkeypatch):
    """The add-on preferences the auto-clean reads, set by the test.

    Not bpy: LeanRoute's own accessor, since the package is not enabled as an add-on here.
    """
    from leanroute.properties import addon_preferences

    prefs = SimpleNamespace(auto_clean=True, auto_clean_interval_s=60.0, soft_budget="1 MB")
    monkeypatch.setattr(addon_preferences, "get_preferences", lambda context=None: prefs)
    return prefs


def test_a_factory_scene_in_object_mode_is_idle(fresh_state):
    facts = idle_clean.idle_facts()
    assert facts == IdleFacts(mode="OBJECT"), facts
    assert facts.busy() is None


def test_edit_mode_is_not_idle(fresh_state):
    bpy.context.view_layer.objects.active = bpy.data.objects["Cube"]
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        facts = idle_clean.idle_facts()
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
    assert facts.mode == "EDIT_MESH"
    assert "not in Object Mode" in facts.busy()


def test_a_running_build_is_not_idle(fresh_state):
    from leanroute import properties

    properties.register()
    try:
        job = bpy.context.window_manager.leanroute_job
        assert not idle_clean.idle_facts().build_running
        job.running = True
        facts = idle_clean.idle_facts()
        job.running = False
    finally:
        properties.unregister()
    assert facts.build_running
    assert facts.busy() == "a LeanRoute build is running"


def test_run_once_cleans_and_is_remembered(fresh_state):
    orphan = bpy.data.meshes.new("a build's orphan")
    orphan[OWNER_KEY] = "some build"
    bpy.data.meshes.new("the user's orphan")
    stage_cache = BoundedCache("idle test stage", max_entries=8, scope="stage")
    session_cache = BoundedCache("idle test session", max_entries=8, scope="session")
    stage_cache["a"] = b"x" * 1000
    session_cache["a"] = b"x" * 1000
    assert idle_clean.last_result() is None

    result = idle_clean.run_once()

    assert idle_clean.last_result() is result
    assert result.trigger == "manual" and not result.error
    assert result.orphans_removed == {"meshes": 1}
    assert "a build's orphan" not in bpy.data.meshes
    assert "the user's orphan" in bpy.data.meshes
    assert result.caches_cleared >= 1 and result.cache_bytes_cleared >= 1000
    assert len(stage_cache) == 0 and len(session_cache) == 1
    assert result.rss_before and result.rss_after and result.heap_trim


def test_the_timer_cleans_once_per_interval_when_enabled_and_over_budget(fresh_state, preferences):
    wait = idle_clean._tick()  # the timer function, called as Blender would
    first = idle_clean.last_result()
    assert first is not None and first.trigger == "idle"
    assert "over the soft budget" in first.reason
    assert 0 < wait <= MAX_WAIT_SECONDS

    idle_clean._tick()
    assert idle_clean.last_result() is first, "cleaned again before the interval passed"
    assert idle_clean.last_decision().reason.startswith("cleaned")


def test_the_timer_does_nothing_when_off_or_within_budget(fresh_state, preferences):
    preferences.soft_budget = "1 TB"
    idle_clean._tick()
    assert idle_clean.last_result() is None
    assert "within the soft budget" in idle_clean.last_decision().reason
    preferences.auto_clean = False
    assert idle_clean._tick() == MAX_WAIT_SECONDS
    assert idle_clean.last_decision().reason == "auto-clean is off"


def test_a_malformed_budget_is_reported_not_raised(fresh_state, preferences):
    preferences.soft_budget = "lots"
    idle_clean._tick()
    assert idle_clean.last_result() is None
    assert idle_clean.last_decision().reason.startswith("soft budget:")


def test_register_adds_one_timer_and_unregister_removes_it():
    before = snapshot()
    idle_clean.register()
    idle_clean.register()
    try:
        added = diff(before, snapshot())
    finally:
        idle_clean.unregister()
    assert added == ["timer added: leanroute.memory.idle_clean._tick"]
    assert diff(before, snapshot()) == []
    idle_clean.unregister()  # harmless when not registered
