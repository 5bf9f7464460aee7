# SPDX-License-Identifier: GPL-3.0-or-later
"""Admission of worker processes for ``--isolate --workers N`` (plain Python).

A new Blender worker is started only while the machine's available memory covers what a job
may need: the largest per-job peak seen so far, plus a margin, on top of what the running
workers may still grow to. Backpressure, so parallelism never causes the out-of-memory kill
that isolation is meant to avoid.
"""

from dataclasses import dataclass, field

from ..memory.units import format_bytes

MINUS = "\u2212"  # the minus sign, as the figures read in the reason


@dataclass(frozen=True)
class Decision:
    """Whether to start another worker now, and why (one line for the log and the bar)."""

    admit: bool
    reason: str


@dataclass
class Admission:
    """Admission of up to *workers* processes; a job may need its largest peak times *margin*."""

    workers: int
    margin: float = 1.1
    _largest_peak: "int | None" = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, not {self.workers!r}")
        if self.margin <= 0:
            raise ValueError(f"margin must be positive, not {self.margin!r}")

    @property
    def largest_peak(self) -> "int | None":
        """The largest whole-process peak RSS of a job so far, in bytes; None before any."""
        return self._largest_peak

    def observe_peak(self, peak_rss: "int | None") -> None:
        """Record a finished job's worker peak RSS (None: not measured, ignored)."""
        if peak_rss is None:
            return
        if self._largest_peak is None or peak_rss > self._largest_peak:
            self._largest_peak = int(peak_rss)

    def reserve(self, running_rss: "list[int | None]") -> int:
        """Bytes the running workers may still grow by, up to the largest peak each.

        A worker whose RSS is unknown (None) is counted at the full peak: assume the worst.
        """
        peak = self._largest_peak or 0
        return sum(peak if rss is None else max(peak - rss, 0) for rss in running_rss)

    def decide(self, running_rss: "list[int | None]", available: "int | None") -> Decision:
        """May another worker start, with *running_rss* the RSS of each running worker?

        *available* is the machine's available memory in bytes (None: unknown).
        """
        running = len(running_rss)
        if running >= self.workers:
            return Decision(False, f"all {self.workers} workers busy")
        if running == 0:
            # Never deadlock: with nothing running, waiting would free no memory.
            return Decision(True, "no worker running: one is always admitted so the batch moves")
        peak = self._largest_peak
        if peak is None:
            return Decision(
                False, "waiting for the first job's peak (probe) before starting more workers"
            )
        if available is None:
            return Decision(True, f"memory unknown: admitting up to {self.workers} workers")
        reserve = self.reserve(running_rss)
        need = round(peak * self.margin)
        free = available - reserve
        figures = (
            f"{format_bytes(available)} available {MINUS} {format_bytes(reserve)} reserved "
            f"for running jobs"
        )
        if free >= need:
            return Decision(True, f"{figures} \u2265 {format_bytes(need)} a job may need")
        return Decision(False, f"{figures} < {format_bytes(need)} a job may need")
