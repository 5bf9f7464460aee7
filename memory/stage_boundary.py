"""One stage boundary: measure before, peak and after; sweep, clean up, or roll back.

Created by :meth:`.pipeline.Pipeline.stage`; see that module for the API.
"""

import contextlib
import gc
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import bmesh_ledger, cache_registry
from .allocation_limit import allocations_limited, limit_is_safe
from .blender_stats import blender_allocated_bytes
from .budget import (
    BudgetInterrupt,
    MemoryBudgetExceeded,
    MemoryBudgetForecast,
    ResolvedBudget,
    StageForecast,
)
from .datablock_owner import (
    count_by_type,
    created_since,
    id_snapshot,
    purge_all_orphans,
    remove_records,
)
from .gc_policy import GCTuning
from .heap_trim import return_memory_to_os
from .peak import PeakWindow
from .process_memory import available_bytes, rss_bytes
from .report import Cleanup, Peak, Rollback, StageReport
from .snapshot import take_snapshot
from .thread_interrupt import raise_in_thread

if TYPE_CHECKING:
    from .pipeline import Pipeline


class Stage:
    """A guarded stage: ``with pipeline.stage("roads") as stage: ...``."""

    def __init__(self, pipeline: "Pipeline", name: str, forecast: "StageForecast | None" = None):
        self.pipeline = pipeline
        self.name = name
        self.forecast = forecast
        self.report = StageReport(name, gc_policy=pipeline.gc_policy.mode)
        if forecast is not None:
            self.report.forecast, self.report.forecast_basis = forecast.bytes, forecast.basis
        self._rollback_callbacks: list[Callable[[], None]] = []
        #: Keys of data-blocks that appeared while foreign code ran: never the stage's.
        self._foreign: dict[str, set[int]] = {}
        self._lock = threading.Lock()
        self._armed = False
        self._stop_rss: int | None = None
        self._soft_hit = False
        self._budget = ResolvedBudget(None, None)
        self._thread_id = 0
        self._entered = False
        self._closed = False

    # -- what stage code may call ------------------------------------------------------

    def checkpoint(self) -> None:
        """Check memory mid-stage (optional, in long loops).

        Samples Blender's allocator for the peak, runs an extra cleanup when over the soft
        budget, raises MemoryBudgetExceeded when over the hard one.
        """
        blender = blender_allocated_bytes()
        peak = self.report.peak
        if blender is not None and (peak.blender is None or blender > peak.blender):
            peak.blender = blender
        self._stop_if_over_hard(self.pipeline.sampler.sample_now())
        if self._soft_hit:
            self._soft_hit = False
            self._soft_cleanup(self.report.cleanup)

    def keep(self, idb) -> None:
        """Exempt a data-block this stage created from orphan removal."""
        self.pipeline.owner.keep(idb)

    @contextlib.contextmanager
    def foreign_code(self):
        """Run code that may call the user's Python (handlers, drivers) inside this block.

        ``scene.frame_set``, a view-layer update or a save fires ``frame_change_post``,
        ``depsgraph_update_post`` and ``save_pre`` handlers: data-blocks they create are
        the user's, so the stage neither adopts nor rolls them back.
        """
        before = id_snapshot()
        try:
            yield
        finally:
            for record in created_since(before):
                self._foreign.setdefault(record.collection, set()).add(record.key)

    def reserve(self, nbytes: int, step: str, basis: str) -> None:
        """Refuse now a step that one long C call will make, if it cannot fit the hard budget.

        The sampler cannot stop a C call (a mesh written into Blender, a triangulation)
        before it returns: stage code that knows such a call's size estimates it here first.
        Raises :class:`.budget.MemoryBudgetForecast` naming *step* ("triangulating a roof of
        120,000 points") and *basis* when RSS plus *nbytes* would go over the hard budget;
        the stage is then rolled back like any stopped stage.
        """
        rss = self.pipeline.sampler.sample_now()
        forecast = StageForecast(max(int(nbytes), 0), basis)
        self._budget.refuse_forecast(self.name, rss, forecast, step=step)

    @contextlib.contextmanager
    def bounded_allocations(self):
        """Inside, an allocation that would take RSS past the hard budget fails at once.

        For plain numpy and Python work only (see :mod:`.allocation_limit`): a single large
        array is refused before its pages are touched, and the stage stops with
        :class:`.budget.MemoryBudgetExceeded` (its ``requested`` the refused size) instead of
        running on inside one C call. Limits only in a background Blender (``blender -b``,
        the bpy module), where no interface threads share the limit; elsewhere the sampler's
        stop between instructions is what holds the budget.
        """
        hard = self._budget.hard
        rss = rss_bytes() if hard is not None and limit_is_safe() else None
        limited = False
        try:
            with allocations_limited(None if rss is None else hard - rss) as limited:
                yield
        except MemoryError as error:
            if not limited or isinstance(error, MemoryBudgetExceeded):
                raise
            # numpy says how large the array it could not allocate was.
            requested = getattr(error, "_total_size", None)
            self._disarm()
            raise MemoryBudgetExceeded(
                self.name,
                hard,
                max(self._window.peak, rss),
                how=self._budget.how,
                requested=int(requested) if isinstance(requested, int) else 0,
            ) from None

    def on_rollback(self, callback: Callable[[], None]) -> None:
        """Run *callback* if the stage fails.

        For changes to data the stage did not create (a scene setting, say); rollback
        removes the data-blocks the stage created by itself.
        """
        self._rollback_callbacks.append(callback)

    # -- the boundary ------------------------------------------------------------------

    def __enter__(self) -> "Stage":
        if self._entered:
            raise RuntimeError(f"stage {self.name!r} was already run; make a new one")
        self._entered = True
        started = time.perf_counter()
        pipeline, policy = self.pipeline, self.pipeline.policy
        pipeline._acquire()
        try:
            self._gc = GCTuning(pipeline.gc_policy)
            self._gc.__enter__()
            self._snapshot = id_snapshot()
            self.report.before = take_snapshot(uss=policy.measure_uss)
            self._resolve_budget()
            self._ledger = bmesh_ledger.BMeshLedger(self.name, guarded=True)
            self._ledger.on_create.append(self._on_bmesh_created)
            bmesh_ledger.push(self._ledger)
            pipeline._open_python_peak(self)
            self._window = PeakWindow(use_kernel_mark=policy.kernel_peak).open()
            pipeline.report.stages.append(self.report)
            self._thread_id = threading.get_ident()
            if self._budget.soft is not None or self._budget.hard is not None:
                self._armed = self._budget.hard is not None
                pipeline.sampler.add_watcher(self._watch)
        except BaseException:
            self._gc.__exit__(None, None, None)
            pipeline._release()
            raise
        self.report.boundary_seconds = time.perf_counter() - started
        self._body_started = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        # A budget interrupt scheduled just before the block ended may fire here, at any
        # call: keep disarming until it has either fired or can no longer be sent.
        while True:
            try:
                self._disarm()
                break
            except BudgetInterrupt as interrupt:
                exc_type, exc = type(interrupt), interrupt
        return self._finish(exc_type, exc)

    def _finish(self, exc_type, exc) -> bool:
        finished = time.perf_counter()
        report, pipeline, policy = self.report, self.pipeline, self.pipeline.policy
        report.wall_seconds = finished - self._body_started
        stopped = exc_type is not None and issubclass(
            exc_type, BudgetInterrupt | MemoryBudgetExceeded
        )
        self._record_peak()
        # "Freed" counts from here: the sweep, the rollback and the cleanup.
        self._end_figures = (rss_bytes(), blender_allocated_bytes())
        bmesh_ledger.pop(self._ledger)
        report.bmeshes = self._ledger.counts
        if policy.sweep_bmeshes or exc_type is not None:
            report.leaks = self._ledger.sweep(scan_untracked=policy.scan_untracked_bmeshes)
        if exc_type is None:
            created = created_since(self._snapshot, self._foreign)
            report.created_datablocks = count_by_type(created)
            pipeline.owner.adopt(created)
        else:
            report.rollback = self._roll_back()
        self._gc.__exit__(None, None, None)
        self._cleanup(report.cleanup, failed=exc_type is not None)
        report.after = take_snapshot(uss=policy.measure_uss)
        pipeline._close_python_peak(self)
        self._closed = True
        pipeline._release()
        report.boundary_seconds += time.perf_counter() - finished
        if exc_type is None:
            report.status = "ok"
            return False
        report.status = "stopped" if stopped else "failed"
        if issubclass(exc_type, BudgetInterrupt):
            # The highest RSS the stage reached (exact from the kernel where it can be), not
            # the sample that tripped the stop: a C call running then carried on past it.
            error = self._exceeded(max(self._stop_rss or 0, report.peak.rss or 0))
            report.error = str(error)
            raise error from None
        if self._stopped_here(exc) and (report.peak.rss or 0) > exc.reached:
            # Stopped by a check of this stage (a checkpoint, a refused allocation): its
            # figure, too, is the stage's peak as the window closed, not the one read then.
            error = MemoryBudgetExceeded(
                self.name,
                exc.limit,
                report.peak.rss,
                how=exc.how,
                advice=exc.advice,
                requested=exc.requested,
            )
            report.error = str(error)
            raise error from None
        report.error = f"{exc_type.__name__}: {exc}"
        if exc is not None:
            exc.add_note(f"LeanRoute: stage {self.name!r} {report.status} and was rolled back.")
        return False

    def abandon(self) -> None:
        """Close a stage whose ``__exit__`` never ran, as a stopped stage: sweep, roll back.

        A budget stop that lands on the very first instruction of ``__exit__`` escapes
        it, like a Ctrl-C can; the pipeline then calls this when it ends. The stop has
        already propagated, so its MemoryBudgetExceeded is only recorded, not raised.
        """
        if self._closed or not self._entered:
            return
        self._disarm()
        with contextlib.suppress(MemoryBudgetExceeded):
            self._finish(BudgetInterrupt, None)

    # -- internals ---------------------------------------------------------------------

    def _resolve_budget(self) -> None:
        budget = self.pipeline.budget
        if not budget.enabled:
            return
        rss = self.report.before.rss
        self._budget = budget.resolve(rss, available_bytes())
        self.report.budget_soft, self.report.budget_hard = self._budget.soft, self._budget.hard
        hard = self._budget.hard
        if hard is not None and rss is not None and rss > hard:
            # Over budget before starting: one extra cleanup, then refuse if still over.
            self._soft_cleanup(self.report.cleanup)
            rss = rss_bytes() or 0
            if rss > hard:
                raise MemoryBudgetExceeded(
                    self.name,
                    hard,
                    rss,
                    how=self._budget.how,
                    advice="Memory was already over the budget when the stage started, "
                    "even after cleanup: run the next job in a fresh process.",
                )
        # Said before the stage starts, not after the machine has started swapping.
        self._budget.refuse_forecast(self.name, rss, self.forecast)

    def _watch(self, rss: int) -> None:
        # Sampler thread: no bpy here.
        with self._lock:
            soft, hard = self._budget.soft, self._budget.hard
            if soft is not None and rss > soft:
                self._soft_hit = True
            if self._armed and hard is not None and rss > hard:
                self._armed = False  # one shot: the stage's exit handles the rest
                self._stop_rss = rss
                raise_in_thread(self._thread_id, BudgetInterrupt)

    def _disarm(self) -> None:
        with self._lock:
            self._armed = False
        self.pipeline.sampler.remove_watcher(self._watch)

    def _on_bmesh_created(self) -> None:
        if self._stop_rss is None and self._budget.hard is not None:
            self._stop_if_over_hard(rss_bytes())

    def _stop_if_over_hard(self, rss: "int | None") -> None:
        hard = self._budget.hard
        if hard is not None and rss is not None and rss > hard:
            self._disarm()
            raise self._exceeded(max(rss, self._window.peak))

    def _stopped_here(self, exc) -> bool:
        """A stop of this stage measured here (not a refusal from a forecast or reserve)."""
        return (
            isinstance(exc, MemoryBudgetExceeded)
            and not isinstance(exc, MemoryBudgetForecast)
            and exc.stage == self.name
        )

    def _exceeded(self, rss: int) -> MemoryBudgetExceeded:
        return MemoryBudgetExceeded(self.name, self._budget.hard or 0, rss, how=self._budget.how)

    def _record_peak(self) -> None:
        report = self.report
        peak: Peak = report.peak
        peak.rss = self._window.close()
        peak.rss_exact = self._window.exact
        blender = blender_allocated_bytes()
        candidates = [v for v in (peak.blender, report.before.blender, blender) if v is not None]
        peak.blender = max(candidates) if candidates else None
        peak.live_bmeshes = report.before.live_bmeshes + self._ledger.counts.peak_live

    def _roll_back(self) -> Rollback:
        rollback = Rollback()
        for callback in reversed(self._rollback_callbacks):
            try:
                callback()
                rollback.callbacks_run += 1
            except Exception as error:
                rollback.errors.append(f"{callback!r}: {error}")
        rollback.removed = remove_records(created_since(self._snapshot, self._foreign))
        return rollback

    def _soft_cleanup(self, cleanup: Cleanup) -> None:
        # Over the soft budget: everything safe mid-stage, session caches included.
        cleanup.soft_limit_cleanups += 1
        cleanup.gc_collected += gc.collect()
        for result in cache_registry.clear_scope("stage") + cache_registry.clear_scope("session"):
            cleanup.caches_cleared.append(result.name)
        _trim_heap(cleanup)

    def _cleanup(self, cleanup: Cleanup, *, failed: bool) -> None:
        policy = self.pipeline.policy
        started = time.perf_counter()
        rss, blender = self._end_figures
        if policy.gc_collect or failed:
            cleanup.gc_collected += gc.collect()
        if policy.remove_orphans:
            cleanup.orphans_removed = self.pipeline.owner.remove_orphans()
        if policy.purge_all_orphans:
            cleanup.orphans_purged = purge_all_orphans()
        if policy.clear_stage_caches:
            cleanup.caches_cleared.extend(r.name for r in cache_registry.clear_scope("stage"))
        soft = self._budget.soft
        now = rss_bytes()
        if soft is not None and (self._soft_hit or (now is not None and now > soft)):
            self._soft_cleanup(cleanup)
        elif policy.trim_heap or failed:
            _trim_heap(cleanup)
        after_rss, after_blender = rss_bytes(), blender_allocated_bytes()
        if rss is not None and after_rss is not None:
            cleanup.rss_freed = max(rss - after_rss, 0)
        if blender is not None and after_blender is not None:
            cleanup.blender_freed = max(blender - after_blender, 0)
        cleanup.seconds = time.perf_counter() - started


def _trim_heap(cleanup: Cleanup) -> None:
    trim = return_memory_to_os()
    cleanup.heap_trim, cleanup.heap_trim_supported = trim.note, trim.supported
