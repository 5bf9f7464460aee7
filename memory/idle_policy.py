"""When the idle auto-clean may run, and what one clean did (plain Python, no ``bpy``).

``idle_clean`` gathers the facts from Blender on the main thread; the decision itself is
here, so it can be tested without Blender.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .units import format_bytes, parse_size

POLL_SECONDS = 5.0
"""Longest wait between two checks while waiting for Blender to become idle."""
MAX_WAIT_SECONDS = 10.0
"""Longest wait while the interval runs, so a changed preference is seen soon."""
MIN_WAIT_SECONDS = 0.5


@dataclass(frozen=True)
class IdleFacts:
    """What Blender is doing now, as far as the auto-clean cares.

    ``mode`` is the interaction mode (``"OBJECT"``, ``"EDIT_MESH"``, ``"SCULPT"`` …);
    ``jobs_running`` names running jobs (``"RENDER"``, ``"OBJECT_BAKE"`` …).
    """

    build_running: bool = False
    animation_playing: bool = False
    jobs_running: tuple[str, ...] = ()
    mode: str = "OBJECT"

    def busy(self) -> str | None:
        """Why Blender is not idle, or None when it is."""
        if self.build_running:
            return "a LeanRoute build is running"
        if self.animation_playing:
            return "the animation is playing"
        if self.jobs_running:
            return f"a job is running ({', '.join(self.jobs_running)})"
        if self.mode != "OBJECT":
            return f"not in Object Mode ({self.mode})"
        return None


@dataclass(frozen=True)
class CleanDecision:
    """Whether to clean now, and why (or why not), in words for a tooltip or a log."""

    clean: bool
    reason: str


def parse_budget(text: str) -> int | None:
    """The soft budget in bytes from the preference's text; None when it is empty.

    Raises ValueError for text that is not a size ("1.5 GB", "800 MB").
    """
    text = (text or "").strip()
    return parse_size(text) if text else None


def should_clean(
    facts: IdleFacts,
    *,
    enabled: bool,
    now: float,
    last_clean: float | None,
    interval_s: float,
    rss: int | None,
    soft_budget: int | None,
) -> CleanDecision:
    """Decide whether the idle auto-clean runs now.

    It runs when it is *enabled*, at least *interval_s* seconds have passed since
    *last_clean* (both on one monotonic clock; None: never cleaned), Blender is idle (see
    ``IdleFacts.busy``) and RSS is above *soft_budget*. With no budget (None) it never
    runs: "above the soft budget" is its trigger, and the reason says to set one.
    """
    blocker = _blocker(
        facts, enabled=enabled, now=now, last_clean=last_clean, interval_s=interval_s
    )
    if blocker:
        return CleanDecision(False, blocker)
    if soft_budget is None:
        return CleanDecision(False, "no soft budget set (Preferences > Add-ons > LeanRoute)")
    if rss is None:
        return CleanDecision(False, "RSS cannot be read here")
    if rss <= soft_budget:
        return CleanDecision(
            False, f"RSS {format_bytes(rss)} is within the soft budget {format_bytes(soft_budget)}"
        )
    return CleanDecision(
        True, f"idle; RSS {format_bytes(rss)} is over the soft budget {format_bytes(soft_budget)}"
    )


def _blocker(
    facts: IdleFacts, *, enabled: bool, now: float, last_clean: float | None, interval_s: float
) -> str | None:
    # What stops a clean whatever the memory figures say.
    if not enabled:
        return "auto-clean is off"
    if last_clean is not None and now - last_clean < interval_s:
        return f"cleaned {now - last_clean:.0f} s ago"
    return facts.busy()


def next_check_in(
    *, enabled: bool, now: float, last_clean: float | None, interval_s: float
) -> float:
    """Seconds until the timer should look again.

    While the interval since the last clean runs, it sleeps through it (at most
    ``MAX_WAIT_SECONDS``, so a changed preference is seen soon); otherwise it checks every
    ``POLL_SECONDS`` (or the interval, when shorter) for Blender to become idle.
    """
    if not enabled:
        return MAX_WAIT_SECONDS
    if last_clean is not None:
        remaining = interval_s - (now - last_clean)
        if remaining > 0:
            return min(max(remaining, MIN_WAIT_SECONDS), MAX_WAIT_SECONDS)
    return max(min(interval_s, POLL_SECONDS), MIN_WAIT_SECONDS)


@dataclass(frozen=True)
class CleanResult:
    """What one clean did, for the Memory panel and tests.

    ``finished_at`` is wall-clock time (``time.time()``); ``trigger`` is ``"idle"`` (the
    timer) or ``"manual"`` (``run_once``). ``error`` is empty unless a step failed; the
    steps after it were still run.
    """

    finished_at: float
    trigger: str
    seconds: float
    rss_before: int | None
    rss_after: int | None
    gc_collected: int = 0
    orphans_removed: dict[str, int] = field(default_factory=dict)
    caches_cleared: int = 0
    cache_bytes_cleared: int = 0
    heap_trim: str = ""
    reason: str = ""
    error: str = ""

    @property
    def rss_freed(self) -> int:
        """RSS the clean gave back (0 if it grew or could not be read)."""
        if self.rss_before is None or self.rss_after is None:
            return 0
        return max(self.rss_before - self.rss_after, 0)

    @property
    def orphans_total(self) -> int:
        """How many build orphans were removed, all types together."""
        return sum(self.orphans_removed.values())

    def summary(self) -> str:
        """One line: ``"freed 120.0 MiB RSS, removed 3 build orphans, 1 cache cleared"``."""
        text = (
            f"freed {format_bytes(self.rss_freed)} RSS, removed {self.orphans_total} build "
            f"orphan{'s' if self.orphans_total != 1 else ''}, {self.caches_cleared} "
            f"cache{'s' if self.caches_cleared != 1 else ''} cleared"
        )
        return f"{text} (error: {self.error})" if self.error else text

    def to_dict(self) -> dict:
        """JSON-ready form, with the derived figures."""
        return {
            "finished_at": self.finished_at,
            "trigger": self.trigger,
            "seconds": self.seconds,
            "rss_before": self.rss_before,
            "rss_after": self.rss_after,
            "rss_freed": self.rss_freed,
            "gc_collected": self.gc_collected,
            "orphans_removed": dict(self.orphans_removed),
            "caches_cleared": self.caches_cleared,
            "cache_bytes_cleared": self.cache_bytes_cleared,
            "heap_trim": self.heap_trim,
            "reason": self.reason,
            "error": self.error,
        }
