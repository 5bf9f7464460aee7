"""Our own registry of live BMeshes, because Python's ``gc`` cannot see them.

A BMesh is freed when its last Python reference dies, but it is not tracked by ``gc`` and
cannot be weak-referenced. So the ledger holds a strong reference to each BMesh created in
a guarded stage and, at every new creation and at the stage's end, *reaps*: a BMesh whose
only reference left is the ledger's is freed (as Python would have done), one that was
freed by its owner is forgotten. At the stage's end every BMesh still referenced elsewhere
is a leak: the sweeper frees it and reports where it was created. Nothing survives its
stage in the ledger.

While a guarded stage is open, ``bmesh.new`` is replaced by a recording wrapper, so code
that calls ``bmesh.new()`` (and then ``bm.from_mesh(...)``) directly is covered. Not
covered: ``BMesh.copy()`` and a ``new`` bound before the stage started (``from bmesh
import new``); the optional untracked scan finds those through ``gc``'s containers.
"""

import gc
import sys

import bmesh

from .report import BMeshCounts, BMeshLeak

# After an add-on reload the module runs again while the wrapper may still be installed.
_original_new = getattr(bmesh.new, "original", bmesh.new)
# The ledger's own reference plus getrefcount's argument.
_LEDGER_ONLY_REFCOUNT = 2
# Up to this many live BMeshes every creation reaps (cheap); above it, reaping is
# amortised (at each doubling) so that code holding thousands stays linear.
_ALWAYS_REAP = 256


def caller_site(depth: int = 2) -> str:
    """``file:line`` of the frame *depth* levels above the caller."""
    frame = sys._getframe(depth)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class _Entry:
    __slots__ = ("bm", "kind", "site")

    def __init__(self, bm, site: str, kind: str):
        self.bm = bm
        self.site = site
        self.kind = kind


class BMeshLedger:
    """Live BMeshes of one stage (or of the session, for scopes outside any stage)."""

    def __init__(self, stage: str, *, guarded: bool = True):
        self.stage = stage
        self.guarded = guarded
        self.counts = BMeshCounts()
        self._entries: dict[int, _Entry] = {}
        self.on_create: list = []
        self._reap_at = _ALWAYS_REAP

    @property
    def live(self) -> int:
        """BMeshes of this ledger still alive (after reaping)."""
        self.reap()
        return len(self._entries)

    def new(self, site: str, kind: str = "scope"):
        """Create a BMesh with the original ``bmesh.new`` and record it."""
        bm = _original_new()
        self.track(bm, site, kind)
        return bm

    def track(self, bm, site: str, kind: str) -> None:
        """Record *bm*, created at *site*."""
        if len(self._entries) <= _ALWAYS_REAP or len(self._entries) >= self._reap_at:
            self.reap()
            self._reap_at = max(_ALWAYS_REAP, 2 * len(self._entries))
        self._entries[id(bm)] = _Entry(bm, site, kind)
        self.counts.created += 1
        self.counts.peak_live = max(self.counts.peak_live, len(self._entries))
        for callback in self.on_create:
            callback()

    def forget(self, bm) -> None:
        """*bm* was freed by its scope: stop tracking it."""
        if self._entries.pop(id(bm), None) is not None:
            self.counts.freed += 1

    def reap(self) -> None:
        """Drop freed BMeshes; free those nobody but the ledger references any more."""
        for key, entry in list(self._entries.items()):
            if not entry.bm.is_valid:
                del self._entries[key]
                self.counts.freed += 1
            elif sys.getrefcount(entry.bm) <= _LEDGER_ONLY_REFCOUNT:
                entry.bm.free()
                del self._entries[key]
                self.counts.released += 1

    def sweep(self, *, scan_untracked: bool = False) -> list[BMeshLeak]:
        """Free every BMesh still alive and return them as leaks with their creation sites."""
        self.reap()
        leaks = []
        for entry in self._entries.values():
            leaks.append(_leak(entry.bm, entry.site, self.stage))
            entry.bm.free()
        self.counts.swept += len(self._entries)
        self._entries.clear()
        if scan_untracked:
            for bm in find_untracked_bmeshes():
                leaks.append(_leak(bm, "unknown (not created through bmesh.new)", self.stage))
                bm.free()
                self.counts.untracked_swept += 1
        return leaks

    def tracked_ids(self) -> set[int]:
        """Ids of the BMeshes tracked now."""
        return set(self._entries)


def _leak(bm, site: str, stage: str) -> BMeshLeak:
    return BMeshLeak(site, stage, len(bm.verts), len(bm.edges), len(bm.faces))


def find_untracked_bmeshes() -> list:
    """Valid, non-edit-mode BMeshes referenced from any ``gc``-tracked container.

    Costly (walks every container in the process), hence opt-in; finds BMeshes made by
    ``BMesh.copy()`` or by a ``bmesh.new`` bound before the stage began.
    """
    known = set()
    for ledger in _stack:
        known |= ledger.tracked_ids()
    bmesh_type = bmesh.types.BMesh
    found = {}
    frozen = gc.get_freeze_count() > 0
    if frozen:
        # gc.get_objects() skips frozen objects (GCPolicy's freeze): thaw, scan, freeze
        # again; survivors of the stage join the frozen set until the pipeline ends.
        gc.unfreeze()
    try:
        containers = gc.get_objects()
    finally:
        if frozen:
            gc.freeze()
    for container in containers:
        for ref in gc.get_referents(container):
            if (
                type(ref) is bmesh_type
                and id(ref) not in known
                and ref.is_valid
                and not ref.is_wrapped
            ):
                found[id(ref)] = ref
    return list(found.values())


# The ledgers of the open stages, innermost last: process state, holding BMeshes only
# until their stage (or scope) ends.
_stack: list[BMeshLedger] = []
_session: "BMeshLedger | None" = None


def session_ledger() -> BMeshLedger:
    """The ledger for scopes opened outside any stage (counts only; nothing is swept)."""
    global _session  # noqa: PLW0603 - process-wide counters, holds BMeshes only inside scopes
    if _session is None:
        _session = BMeshLedger("session", guarded=False)
    return _session


def active_ledger() -> BMeshLedger:
    """The innermost open stage's ledger, or the session ledger."""
    return _stack[-1] if _stack else session_ledger()


def live_bmeshes() -> int:
    """BMeshes alive that LeanRoute knows of: open scopes and guarded stages."""
    return session_ledger().live + sum(ledger.live for ledger in _stack)


def _tracking_new(*args, **kwargs):
    bm = _original_new(*args, **kwargs)
    for ledger in reversed(_stack):
        if ledger.guarded:
            ledger.track(bm, caller_site(), "direct")
            break
    return bm


_tracking_new.__doc__ = _original_new.__doc__
_tracking_new.original = _original_new


def push(ledger: BMeshLedger) -> None:
    """Open *ledger*; while any guarded ledger is open, ``bmesh.new`` records its calls."""
    _stack.append(ledger)
    if ledger.guarded:
        bmesh.new = _tracking_new


def pop(ledger: BMeshLedger) -> None:
    """Close *ledger* (and any ledger opened after it and left open)."""
    while _stack:
        if _stack.pop() is ledger:
            break
    if not any(item.guarded for item in _stack):
        bmesh.new = _original_new
