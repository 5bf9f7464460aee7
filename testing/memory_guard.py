"""The checks behind the plugin's markers and its ``memory_guard`` fixture, without pytest.

One :class:`ItemChecks` holds every check switched on for one test:

- :class:`BMeshWatch`: a guarded BMesh ledger (``memory.bmesh_ledger``) open while the test
  runs records every ``bmesh.new`` with its caller's ``file:line``; what is still alive
  when the test returns is freed and reported. BMeshes are invisible to ``gc`` and cannot
  be weak-referenced, so only the ledger (and the opt-in untracked scan) can find them.
- :class:`OrphanWatch`: an ID snapshot (``memory.datablock_owner``) before, and the
  data-blocks created since that have no users and no fake user after. Orphans that
  existed before never count.
- :class:`GrowthRun`: readings after a gc collection and a heap trim before the first
  measured run and after each, and the least-squares growth per run (``memory.growth``).
- :class:`MemoryGuard`: the object the ``memory_guard`` fixture gives a test.

Nothing here imports ``bpy`` at import time; the checks that need Blender import it when
they start. On Blender 3.x data-blocks are told apart by address (no ``ID.session_uid``),
as ``memory.datablock_owner.id_key`` does.
"""

import fnmatch
import gc
import sys
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from ..memory.growth import AllocationSite, LeakCheckReport, judge
from ..memory.heap_trim import return_memory_to_os
from ..memory.process_memory import rss_bytes
from ..memory.report import BMeshLeak
from ..memory.units import format_bytes, parse_size
from . import failure_text
from .markers import GrowthLimit

#: Allocation sites of the measurement and of pytest itself, not of the test (fnmatch).
_NOT_THE_TESTS = (
    tracemalloc.__file__,
    "<frozen importlib._bootstrap*>",
    "<unknown>",
    "*/_pytest/*",
    "*/pluggy/*",
    "*/psutil/*",
    "*/fnmatch.py",  # pattern matching: pytest's and this filter's own
    str(Path(__file__).parent / "*"),
    *(
        str(Path(__file__).parents[1] / "memory" / f"{name}.py")
        for name in ("allocator_text", "blender_stats", "heap_trim", "process_memory")
    ),
)


def blender_loaded() -> bool:
    """True when ``bpy`` is imported already (Blender's figures are worth reading)."""
    return "bpy" in sys.modules


def blender_missing(what: str) -> "str | None":
    """Why *what* cannot run here (``bpy`` does not import), or None when it can."""
    try:
        import bpy  # noqa: F401
    except ImportError as error:
        return (
            f"{what} needs Blender, but bpy cannot be imported here ({error}): run the "
            "tests with the bpy module installed, or inside Blender with pytest-blender"
        )
    return None


def settle() -> None:
    """Collect cyclic garbage and give freed heap back to the OS before a reading."""
    gc.collect()
    return_memory_to_os()


def blender_bytes() -> "int | None":
    """Blender's allocator now, or None without Blender."""
    if not blender_loaded():
        return None
    from ..memory.blender_stats import blender_allocated_bytes

    return blender_allocated_bytes()


@dataclass(frozen=True)
class Reading:
    """RSS and Blender's allocator at one moment (None where not measured)."""

    rss: "int | None"
    blender: "int | None"


def read(*, settle_first: bool = True) -> Reading:
    """Read RSS and Blender's allocator, after :func:`settle` unless told not to."""
    if settle_first:
        settle()
    return Reading(rss_bytes(), blender_bytes())


class BMeshWatch:
    """A guarded BMesh ledger open from construction until :meth:`close`.

    With *scan_untracked*, BMeshes that were not made through ``bmesh.new`` (``BMesh.copy()``,
    a ``new`` bound before the watch began) are found through ``gc`` as well; those alive
    before the watch began are left alone.
    """

    def __init__(self, label: str, *, scan_untracked: bool = False):
        import bpy  # noqa: F401 - bmesh imports only once bpy has

        from ..memory import bmesh_ledger

        self._ledgers = bmesh_ledger
        self.label = label
        self.scan_untracked = False
        self._known_untracked: set[int] = set()
        self.ledger = bmesh_ledger.BMeshLedger(label, guarded=True)
        bmesh_ledger.push(self.ledger)
        self.open = True
        if scan_untracked:
            self.enable_scan()

    def enable_scan(self) -> None:
        """Also look for untracked BMeshes at the end (those alive now are not counted)."""
        if not self.scan_untracked:
            self._known_untracked = {id(bm) for bm in self._ledgers.find_untracked_bmeshes()}
            self.scan_untracked = True

    @property
    def alive(self) -> int:
        """BMeshes made since the watch began that are still alive."""
        return self.ledger.live if self.open else 0

    def close(self) -> "list[BMeshLeak]":
        """Free every BMesh still alive and return them as leaks (tracked ones first)."""
        if not self.open:
            return []
        self.open = False
        untracked = []
        try:
            if self.scan_untracked:
                # Our ledger is still open: the BMeshes it tracks are not "untracked".
                for bm in self._ledgers.find_untracked_bmeshes():
                    if id(bm) in self._known_untracked:
                        continue
                    untracked.append(
                        BMeshLeak(
                            failure_text.UNTRACKED_SITE,
                            self.label,
                            len(bm.verts),
                            len(bm.edges),
                            len(bm.faces),
                        )
                    )
                    bm.free()
            leaks = self.ledger.sweep()
        finally:
            self._ledgers.pop(self.ledger)
        return leaks + untracked


class OrphanWatch:
    """Orphan data-blocks created between construction and :meth:`close`."""

    def __init__(self, *, remove: bool = False):
        import bpy  # noqa: F401

        from ..memory.datablock_owner import id_snapshot

        self.remove = remove
        self._snapshot = id_snapshot()
        self.open = True

    def _found(self) -> list:
        import bpy

        from ..memory.blender_stats import NEVER_ORPHANS, id_collections
        from ..memory.datablock_owner import id_key

        found = []
        for name in id_collections():
            if name in NEVER_ORPHANS or name == "scenes":  # a purge never removes a scene
                continue
            known = self._snapshot.get(name, set())
            for idb in getattr(bpy.data, name):
                if idb.users == 0 and not idb.use_fake_user and id_key(idb) not in known:
                    found.append((name, idb))
        return found

    def orphans(self) -> "list[tuple[str, str]]":
        """``(bpy.data collection, name)`` of each orphan the test created so far."""
        return [(name, idb.name) for name, idb in self._found()] if self.open else []

    def close(self) -> "tuple[list[tuple[str, str]], int]":
        """The orphans created, and how many data-blocks were then removed (with *remove*)."""
        if not self.open:
            return [], 0
        self.open = False
        found = self._found()
        names = [(name, idb.name) for name, idb in found]
        removed = self._remove() if self.remove and found else 0
        return names, removed

    def _remove(self) -> int:
        # Repeated: removing an orphan object can orphan the test's mesh it used.
        import bpy

        from ..memory.datablock_owner import id_key

        removed = 0
        tried: set[tuple[str, int]] = set()
        while True:
            batch = [(name, idb) for name, idb in self._found() if (name, id_key(idb)) not in tried]
            if not batch:
                return removed
            tried.update((name, id_key(idb)) for name, idb in batch)
            bpy.data.batch_remove([idb for _, idb in batch])
            removed += len(batch)


def _measurement_site(filename: str) -> bool:
    return any(fnmatch.fnmatch(filename, pattern) for pattern in _NOT_THE_TESTS)


class GrowthRun:
    """Readings around the measured runs of one ``memory_growth_limit`` test.

    :meth:`start` after the warm-up calls, :meth:`record` after each measured run but the
    last, :meth:`finish` after the last. Blender's allocator, data-block counts and live
    BMeshes are read only when ``bpy`` is loaded.
    """

    def __init__(self, options: GrowthLimit):
        self.options = options
        self.blender = blender_loaded()
        self.report = LeakCheckReport(options.runs)
        self._first_trace = None
        self._tracing = False

    def start(self) -> None:
        """The baseline reading (and tracemalloc, with ``trace_python``)."""
        if self.options.trace_python and not tracemalloc.is_tracing():
            tracemalloc.start()
            self._tracing = True
        self._first_trace = self.record()

    def record(self):
        """Settle and read every figure; returns a tracemalloc snapshot when tracing."""
        settle()
        if self.blender:
            from ..memory.blender_stats import datablock_counts
            from ..memory.bmesh_ledger import live_bmeshes

            self.report.add_reading(
                rss_bytes(), blender_bytes(), live_bmeshes(), datablock_counts()
            )
        else:
            self.report.add_reading(rss_bytes())
        if self.options.trace_python and tracemalloc.is_tracing():
            return tracemalloc.take_snapshot()
        return None

    def finish(self) -> "list[str]":
        """The last reading; fit the growth; return the metrics over the limit."""
        try:
            last_trace = self.record()
            if self._first_trace is not None and last_trace is not None:
                # Grouped first, filtered after: filtering every trace is slow, and both
                # happen after the last snapshot (fnmatch's compiled patterns allocate).
                stats = last_trace.compare_to(self._first_trace, "lineno")
                self.report.top_python_growth = [
                    AllocationSite(str(stat.traceback), stat.size_diff, stat.count_diff)
                    for stat in stats
                    if stat.size_diff >= failure_text.SITE_MIN_GROWTH
                    and not _measurement_site(stat.traceback[0].filename)
                ][: self.options.top]
        finally:
            self.stop()
        limit = self.options.limit
        judge(self.report, {"rss": limit, "blender": limit})
        return [m for m in ("rss", "blender") if self.report.growth.get(m, 0.0) > limit]

    def stop(self) -> None:
        """Stop tracemalloc if this run started it."""
        self._first_trace = None
        if self._tracing:
            tracemalloc.stop()
            self._tracing = False


@dataclass(frozen=True)
class GuardFigures:
    """The test's memory now against when it started, as ``memory_guard.check()`` gives it.

    Sizes in bytes (None where not measured: Blender's allocator without ``bpy``).
    ``live_bmeshes`` and ``orphans`` are None until ``no_bmesh_leaks()`` /
    ``no_orphans()`` switched those checks on.
    """

    rss_before: "int | None"
    rss: "int | None"
    blender_before: "int | None"
    blender: "int | None"
    limit: "int | None" = None
    blender_limit: "int | None" = None
    live_bmeshes: "int | None" = None
    orphans: "tuple[tuple[str, str], ...] | None" = None

    @property
    def rss_growth(self) -> "int | None":
        """RSS now minus RSS when the test started."""
        return _difference(self.rss_before, self.rss)

    @property
    def blender_growth(self) -> "int | None":
        """Blender's allocator now minus when the test started."""
        return _difference(self.blender_before, self.blender)

    @property
    def over_limit(self) -> bool:
        """True when a budget set with ``limit()`` is exceeded now."""
        return bool(self.over())

    def over(self) -> "list[str]":
        """The metrics ("rss", "blender") whose growth passed their budget now."""
        over = []
        if self.limit is not None and (self.rss_growth or 0) > self.limit:
            over.append("rss")
        if self.blender_limit is not None and (self.blender_growth or 0) > self.blender_limit:
            over.append("blender")
        return over

    def summary(self) -> str:
        """One line: RSS and Blender's allocator before and now, and the budgets."""
        text = failure_text.figures(self.rss_before, self.rss, self.blender_before, self.blender)
        budgets = [
            f"{label} budget {format_bytes(limit)}"
            for label, limit in (("RSS", self.limit), ("allocator", self.blender_limit))
            if limit is not None
        ]
        return f"{text}; {', '.join(budgets)}" if budgets else text


def _difference(before: "int | None", after: "int | None") -> "int | None":
    return None if before is None or after is None else after - before


class MemoryGuard:
    """Memory checks a test switches on itself; what the ``memory_guard`` fixture returns.

    The baseline is read (after a gc collection and a heap trim) when the test function
    starts, that is after its fixtures are set up; every check is made when the test
    function returns, before any fixture is torn down, and a failed check fails the test.
    Each failure names RSS and Blender's allocator before and after the test.

    - :meth:`limit`: a budget for the RSS growth of the whole test (and optionally for
      Blender's allocator);
    - :meth:`no_bmesh_leaks`, :meth:`no_orphans`: the checks of the ``bmesh_leak_free``
      and ``no_orphans`` markers, from the moment they are called;
    - :meth:`check`: the figures now, to assert on or print.
    """

    def __init__(self, checks: "ItemChecks"):
        self._checks = checks
        self._before: Reading | None = None
        self._limit: int | None = None
        self._blender_limit: int | None = None

    def start(self) -> None:
        """Take the baseline now if not yet taken (the plugin calls this as the test starts)."""
        if self._before is None:
            self._before = read()

    def limit(self, size: "str | int", *, blender: "str | int | None" = None) -> None:
        """Fail the test if its RSS grows by more than *size* (``"50 MB"`` or bytes).

        With *blender*, Blender's allocator gets a budget of its own as well.
        """
        self._limit = _size("limit", size)
        if blender is not None:
            self._blender_limit = _size("limit(blender=...)", blender)

    def no_bmesh_leaks(self, *, scan_untracked: bool = False) -> None:
        """Fail the test if BMeshes made from now on are alive when it returns (and free them)."""
        _skip_without_blender("memory_guard.no_bmesh_leaks()")
        self._checks.watch_bmeshes(scan_untracked=scan_untracked)

    def no_orphans(self, *, remove: bool = False) -> None:
        """Fail the test if data-blocks made from now on are orphans when it returns.

        With *remove* they are removed after being reported.
        """
        _skip_without_blender("memory_guard.no_orphans()")
        self._checks.watch_orphans(remove=remove)

    def check(self, *, settle: bool = True) -> GuardFigures:
        """The figures now (after a gc collection and a heap trim unless *settle* is False)."""
        self.start()
        now = read(settle_first=settle)
        checks = self._checks
        return GuardFigures(
            rss_before=self._before.rss,
            rss=now.rss,
            blender_before=self._before.blender,
            blender=now.blender,
            limit=self._limit,
            blender_limit=self._blender_limit,
            live_bmeshes=checks.bmeshes.alive if checks.bmeshes else None,
            orphans=tuple(checks.orphans.orphans()) if checks.orphans else None,
        )

    def finish(self) -> "tuple[list[str], GuardFigures]":
        """The budgets' failures at the test's end, and the figures they were judged on."""
        figures = self.check()
        problems = []
        for metric in figures.over():
            limit, before, after = (
                (self._limit, figures.rss_before, figures.rss)
                if metric == "rss"
                else (self._blender_limit, figures.blender_before, figures.blender)
            )
            problems.append(failure_text.guard_limit(metric, limit, before, after))
        return problems, figures


def _size(what: str, value: "str | int") -> int:
    try:
        return parse_size(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"memory_guard.{what}: {error}") from None


def _skip_without_blender(what: str) -> None:
    reason = blender_missing(what)
    if reason:
        import pytest

        pytest.skip(reason)


class ItemChecks:
    """Every memory check switched on for one test, by its markers or its ``memory_guard``.

    :meth:`finish` when the test function returned; :meth:`abandon` otherwise (the test
    failed or was skipped): then BMeshes are still freed, orphans still removed where
    asked, and nothing is reported.
    """

    def __init__(self, label: str, root=None):
        self.label = label
        self.root = root
        self.bmeshes: BMeshWatch | None = None
        self.orphans: OrphanWatch | None = None
        self.growth: GrowthRun | None = None
        self.guard: MemoryGuard | None = None
        self.closed = False

    def _refuse_when_closed(self, what: str) -> None:
        if self.closed:
            raise RuntimeError(
                f"memory_guard.{what}: the test {self.label} has already returned; switch "
                "checks on inside the test (or in a fixture's setup)"
            )

    def watch_bmeshes(self, *, scan_untracked: bool = False) -> None:
        """Open the BMesh watch (once; a later request can only add the untracked scan)."""
        self._refuse_when_closed("no_bmesh_leaks()")
        if self.bmeshes is None or not self.bmeshes.open:
            self.bmeshes = BMeshWatch(self.label, scan_untracked=scan_untracked)
        elif scan_untracked:
            self.bmeshes.enable_scan()

    def watch_orphans(self, *, remove: bool = False) -> None:
        """Take the ID snapshot for the orphan check (once; *remove* can only be added)."""
        self._refuse_when_closed("no_orphans()")
        if self.orphans is None or not self.orphans.open:
            self.orphans = OrphanWatch(remove=remove)
        elif remove:
            self.orphans.remove = True

    def ensure_guard(self) -> MemoryGuard:
        """The test's :class:`MemoryGuard` (one per test)."""
        if self.guard is None:
            self.guard = MemoryGuard(self)
        return self.guard

    def finish(self) -> "list[str]":
        """Judge every check; return the failure paragraphs (empty: all passed)."""
        problems: list[str] = []
        try:
            # Readings first, while what the test left is still alive.
            if self.growth is not None:
                over = self.growth.finish()
                if over:
                    problems.append(
                        failure_text.growth(
                            self.growth.report,
                            self.growth.options.limit,
                            over,
                            blender_measured=self.growth.blender,
                            traced=self.growth.options.trace_python,
                            root=self.root,
                        )
                    )
            guard_figures = None
            if self.guard is not None:
                guard_problems, guard_figures = self.guard.finish()
                problems += guard_problems
            if self.bmeshes is not None:
                leaks = self.bmeshes.close()
                if leaks:
                    problems.append(failure_text.bmesh_leaks(leaks, self.root))
            if self.orphans is not None:
                found, removed = self.orphans.close()
                if found:
                    problems.append(failure_text.orphans(found, removed=removed))
            if problems and guard_figures is not None:
                problems.append(f"Memory of the test: {guard_figures.summary()}")
        finally:
            self.abandon()
        return problems

    def abandon(self) -> None:
        """Close whatever is still open without judging: free, remove, stop tracing."""
        self.closed = True
        try:
            if self.growth is not None:
                self.growth.stop()
            if self.bmeshes is not None:
                self.bmeshes.close()
        finally:
            if self.orphans is not None:
                self.orphans.close()
