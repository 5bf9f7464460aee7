"""The optional idle auto-clean: a main-thread timer that cleans up while Blender is idle.

When the add-on preference ``auto_clean`` is on, a ``bpy.app.timers`` function checks
every few seconds whether Blender is idle (no LeanRoute build, no animation playing, no
render, bake, compositing or shader job, Object Mode), whether the interval
``auto_clean_interval_s`` has passed since the last clean, and whether RSS is over the
``soft_budget`` (with no budget: on every interval). Then it runs the cleanup:
``gc.collect()``, removing every LeanRoute build's orphans, clearing "stage"-scoped caches
and returning freed heap to the OS. The decision is ``idle_policy.should_clean``.

Timers run on the main thread, between events, so the cleanup may touch ``bpy``; nothing
here ever runs on another thread. Timers never fire in background mode: ``run_once()``
cleans immediately, whatever the preferences say.
"""

import gc
import time

import bpy

from . import cache_registry
from .datablock_owner import remove_tagged_orphans
from .heap_trim import return_memory_to_os
from .idle_policy import (
    CleanDecision,
    CleanResult,
    IdleFacts,
    next_check_in,
    parse_budget,
    should_clean,
)
from .process_memory import rss_bytes

# Job types that make Blender busy; a type this Blender does not know is skipped.
JOB_TYPES = ("RENDER", "RENDER_PREVIEW", "OBJECT_BAKE", "COMPOSITE", "SHADER_COMPILATION")
FIRST_CHECK_SECONDS = 5.0

_last_result: "CleanResult | None" = None
_last_clean: "float | None" = None  # time.monotonic() of the last clean
_last_decision: "CleanDecision | None" = None


def last_result() -> "CleanResult | None":
    """What the last clean did (idle or ``run_once``), or None if none ran this session."""
    return _last_result


def last_decision() -> "CleanDecision | None":
    """The timer's last decision and its reason (e.g. "the animation is playing")."""
    return _last_decision


def running_jobs() -> tuple[str, ...]:
    """The job types in ``JOB_TYPES`` running now (render, bake, compositing, shaders)."""
    is_job_running = getattr(bpy.app, "is_job_running", None)
    if is_job_running is None:
        return ()
    running = []
    for job in JOB_TYPES:
        try:
            if is_job_running(job):
                running.append(job)
        except (TypeError, ValueError):  # a job type this Blender does not have
            continue
    return tuple(running)


def idle_facts(context=None) -> IdleFacts:
    """What Blender is doing now (main thread): build, playback, jobs, interaction mode."""
    context = context or bpy.context
    window_manager = getattr(context, "window_manager", None)
    job = getattr(window_manager, "leanroute_job", None)
    windows = list(window_manager.windows) if window_manager is not None else []
    # Playback is global (one animation timer per window manager): any screen tells.
    screens = [window.screen for window in windows if window.screen is not None]
    screens = screens or list(bpy.data.screens)[:1]
    mode = getattr(context, "mode", "OBJECT") or "OBJECT"
    for window in windows:
        active = window.view_layer.objects.active if window.view_layer else None
        if active is not None and active.mode != "OBJECT" and mode == "OBJECT":
            mode = active.mode
    return IdleFacts(
        build_running=bool(getattr(job, "running", False)),
        animation_playing=any(screen.is_animation_playing for screen in screens),
        jobs_running=running_jobs(),
        mode=mode,
    )


def decision_now(context=None, now: "float | None" = None) -> CleanDecision:
    """The timer's decision now, from the add-on preferences and Blender's state."""
    from ..properties.addon_preferences import get_preferences

    prefs = get_preferences(context or bpy.context)
    if not prefs.auto_clean:
        return CleanDecision(False, "auto-clean is off")
    try:
        budget = parse_budget(prefs.soft_budget)
    except ValueError as error:
        return CleanDecision(False, f"soft budget: {error}")
    return should_clean(
        idle_facts(context),
        enabled=True,
        now=time.monotonic() if now is None else now,
        last_clean=_last_clean,
        interval_s=float(prefs.auto_clean_interval_s),
        rss=rss_bytes(),
        soft_budget=budget,
    )


def run_once(trigger: str = "manual", reason: str = "") -> CleanResult:
    """Clean up now (main thread) with :func:`clean_now`, and keep the result.

    ``last_result()`` then shows it, and the idle timer counts its interval from now.
    """
    global _last_result, _last_clean  # noqa: PLW0603 - the module keeps the last clean
    _last_result = clean_now(trigger, reason)
    _last_clean = time.monotonic()
    return _last_result


def clean_now(trigger: str = "manual", reason: str = "") -> CleanResult:
    """Clean up now (main thread): gc, build orphans, stage caches, heap trim.

    Returns what it did. A failing step is recorded in the result's ``error`` and the
    remaining steps still run. Used by the idle timer and between batch jobs.
    """
    started = time.perf_counter()
    before = rss_bytes()
    errors = []
    collected, removed, cleared = 0, {}, []
    try:
        collected = gc.collect()
    except Exception as error:
        errors.append(f"gc: {error}")
    try:
        removed = remove_tagged_orphans()
    except Exception as error:
        errors.append(f"orphans: {error}")
    try:
        cleared = cache_registry.clear_scope("stage")
    except Exception as error:
        errors.append(f"caches: {error}")
    trim = return_memory_to_os()
    trim_note = trim.note if trim.supported else f"not supported ({trim.note})"
    return CleanResult(
        finished_at=time.time(),
        trigger=trigger,
        seconds=time.perf_counter() - started,
        rss_before=before,
        rss_after=rss_bytes(),
        gc_collected=collected,
        orphans_removed=removed,
        caches_cleared=len(cleared),
        cache_bytes_cleared=sum(result.bytes for result in cleared),
        heap_trim=trim_note,
        reason=reason,
        error="; ".join(errors),
    )


def _tick() -> float:
    # The timer: never raises (an exception would unregister it for the whole session).
    global _last_decision  # noqa: PLW0603
    from ..properties.addon_preferences import get_preferences

    try:
        prefs = get_preferences(bpy.context)
        decision = decision_now()
        _last_decision = decision
        if decision.clean:
            run_once("idle", decision.reason)
        return next_check_in(
            enabled=bool(prefs.auto_clean),
            now=time.monotonic(),
            last_clean=_last_clean,
            interval_s=float(prefs.auto_clean_interval_s),
        )
    except Exception as error:
        _last_decision = CleanDecision(False, f"auto-clean check failed: {error}")
        print(f"LeanRoute: {_last_decision.reason}")
        return FIRST_CHECK_SECONDS * 2


def register() -> None:
    """Start the idle check timer (kept across file loads); harmless if already started."""
    if not bpy.app.timers.is_registered(_tick):
        bpy.app.timers.register(_tick, first_interval=FIRST_CHECK_SECONDS, persistent=True)


def unregister() -> None:
    """Stop the timer completely."""
    if bpy.app.timers.is_registered(_tick):
        bpy.app.timers.unregister(_tick)
