# SPDX-License-Identifier: GPL-3.0-or-later
"""A terminal progress bar for batch runs: job count, current stage, ETA (plain Python).

On a terminal one line is rewritten in place; anywhere else (CI logs, files) it prints one
plain line per finished job, so logs stay readable and free of escape codes.
"""

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

CLEAR_LINE = "\r\x1b[K"
BAR_MIN, BAR_MAX = 10, 30
ELLIPSIS = "…"
PART_MIN = 12  # a cut job or waiting part keeps this many characters, or goes


@dataclass
class RunningJob:
    """A job a worker is building: where it is, for the bar's "current job" part."""

    job_id: str
    worker: object = None
    stage: str = ""
    index: int = 0
    count: int = 0

    def label(self) -> str:
        """``krems-07: roads (4/9)``; just the id before the first stage."""
        if not self.stage:
            return self.job_id
        where = f" ({self.index + 1}/{self.count})" if self.count else ""
        return f"{self.job_id}: {self.stage}{where}"


def format_eta(seconds: "float | None") -> str:
    """``"0:12"``, ``"12:05"``, ``"1:02:03"``; ``"--"`` when unknown."""
    if seconds is None:
        return "--"
    total = max(round(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def estimate_eta(remaining: int, durations: "list[float]", parallel: int) -> "float | None":
    """Seconds left: *remaining* jobs x mean of *durations* / workers; None before any finished.

    No more workers than remaining jobs can be busy, so the divisor is capped by *remaining*:
    otherwise the last few jobs of a wide run would look nearly free.
    """
    if not durations:
        return None
    if remaining <= 0:
        return 0.0
    mean = sum(durations) / len(durations)
    return remaining * mean / max(min(parallel, remaining), 1)


def _shorten(text: str, room: int) -> str:
    """*text* cut to *room* characters, with an ellipsis when cut."""
    if len(text) <= room:
        return text
    return text[: room - 1] + ELLIPSIS if room > 0 else ""


def render_bar(done: int, total: int, width: int) -> str:
    """``[#########.........]``: *done* of *total* over *width* cells (brackets excluded)."""
    filled = width if total <= 0 else min(width, width * done // total)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _join(parts: "list[str]") -> str:
    return " | ".join(p for p in parts if p)


def _fit(head: str, flexible: "list[str]", tail: str, room: int, keep: int) -> "str | None":
    """``head | job | waiting | tail`` in *room*, cutting waiting, then job, to *keep* chars.

    None when it does not fit even so.
    """
    parts = list(flexible)
    for i in reversed(range(len(parts))):
        excess = len(_join([head, *parts, tail])) - room
        if excess <= 0:
            break
        parts[i] = _shorten(parts[i], max(len(parts[i]) - excess, keep))
    line = _join([head, *parts, tail])
    return line if len(line) <= room else None


def render_line(
    *,
    done: int,
    total: int,
    failed: int = 0,
    running: "list[RunningJob] | tuple[()]" = (),
    eta: "float | None" = None,
    waiting: "str | None" = None,
    width: int = 80,
) -> str:
    """The TTY line, at most ``width - 1`` characters (the last column would wrap the line).

    ``[#########.........] 9/20 jobs, 1 failed | krems-07: roads (4/9) | ETA 0:12``. With
    several jobs running the count comes first: ``3 running, krems-07: roads (4/9)``. When too
    wide: the bar narrows; the waiting note, then the job, are cut (to no less than a dozen
    characters); the bar goes; the waiting note goes, then the job; last, the line is cut.
    """
    room = max(width - 1, 0)
    counts = f"{done}/{total} jobs" + (f", {failed} failed" if failed else "")
    job = ""
    if running:
        job = running[0].label()
        if len(running) > 1:
            job = f"{len(running)} running, {job}"
    eta_text = f"ETA {format_eta(eta)}"
    flexible = [job, waiting or ""]

    full = _join([counts, *flexible, eta_text])
    bar_cells = min(BAR_MAX, room - len(full) - 3)  # "[", "]" and a space
    if bar_cells >= BAR_MIN:
        return f"{render_bar(done, total, bar_cells)} {full}"
    bar = render_bar(done, total, BAR_MIN)
    tail = _fit(counts, flexible, eta_text, room - len(bar) - 1, PART_MIN)
    if tail is not None:
        return f"{bar} {tail}"
    # No bar; then no waiting note; then only the counts and the ETA.
    for parts in (flexible, [job, ""]):
        tail = _fit(counts, parts, eta_text, room, PART_MIN)
        if tail is not None:
            return tail
    tail = _join([counts, eta_text])
    return _shorten(tail, room)


class TerminalBar:
    """Progress of a batch of *total* jobs on *stream* (stderr by default).

    Args:
        total: jobs in the batch, including those a checkpoint already has (see skipped()).
        stream: where to write; ``sys.stderr`` by default.
        tty: rewrite one line in place; default: ``stream.isatty()``.
        width: columns to fit the line in; default: the terminal's width, read at each redraw.
        clock: monotonic seconds, for the redraw throttle (tests pass a fake).
        min_interval: at most one redraw this often, except when a job ends.

    """

    def __init__(
        self,
        total: int,
        *,
        stream: "TextIO | None" = None,
        tty: "bool | None" = None,
        width: "int | None" = None,
        clock: "Callable[[], float]" = time.monotonic,
        min_interval: float = 0.1,
    ) -> None:
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty()) if callable(isatty) else False
        self.tty = tty
        self._width = width
        self._clock = clock
        self.min_interval = min_interval
        self.done = 0  # finished (ok or failed) plus skipped
        self.failed = 0
        self.skipped_count = 0
        self.durations: list[float] = []  # seconds of jobs finished in this run
        self.running: dict[str, RunningJob] = {}
        self.parallel = 1  # most jobs seen running at once
        self.waiting_text: str | None = None
        self._last_draw: float | None = None
        self._closed = False

    # -- figures ---------------------------------------------------------------------------

    @property
    def width(self) -> int:
        """Columns to fit the line in."""
        if self._width is not None:
            return self._width
        return shutil.get_terminal_size().columns

    @property
    def remaining(self) -> int:
        """Jobs neither finished nor skipped (running ones included)."""
        return max(self.total - self.done, 0)

    @property
    def eta(self) -> "float | None":
        """Seconds left, from this run's finished jobs; None before the first one finishes."""
        return estimate_eta(self.remaining, self.durations, self.parallel)

    def line(self) -> str:
        """The TTY line for the current state."""
        return render_line(
            done=self.done,
            total=self.total,
            failed=self.failed,
            running=list(self.running.values()),
            eta=self.eta,
            waiting=self.waiting_text,
            width=self.width,
        )

    # -- events ----------------------------------------------------------------------------

    def job_started(self, job_id: str, *, worker: object = None) -> None:
        """A worker started *job_id*."""
        self.running[job_id] = RunningJob(job_id, worker)
        self.parallel = max(self.parallel, len(self.running))
        self._redraw()

    def stage(self, job_id: str, stage: str, index: int, count: int) -> None:
        """*job_id* entered stage *index* (0-based) of *count*, called *stage*."""
        job = self.running.get(job_id)
        if job is None:  # a stage report without job_started (a resumed worker): adopt it
            job = self.running[job_id] = RunningJob(job_id)
            self.parallel = max(self.parallel, len(self.running))
        job.stage, job.index, job.count = stage, index, count
        # Off a terminal stage updates are noise in the log: only finished jobs are printed.
        self._redraw()

    def job_finished(self, job_id: str, ok: bool, seconds: float) -> None:
        """*job_id* ended, built (*ok*) or failed, after *seconds*."""
        self.running.pop(job_id, None)
        self.done += 1
        self.failed += not ok
        self.durations.append(seconds)
        if self.tty:
            self._redraw(force=True)
        else:
            verdict = "done" if ok else "failed"
            self._print(
                f"[{self.done}/{self.total}] {job_id} {verdict} in {seconds:.1f} s, "
                f"ETA {format_eta(self.eta)}"
            )

    def skipped(self, n: int) -> None:
        """*n* jobs a checkpoint already has: counted as done, kept out of the ETA's mean."""
        if n <= 0:
            return
        self.done += n
        self.skipped_count += n
        if self.tty:
            self._redraw(force=True)
        else:
            plural = "s" if n != 1 else ""
            self._print(f"[{self.done}/{self.total}] {n} job{plural} already done (checkpoint)")

    def note(self, text: str) -> None:
        """Print *text* on its own line, above the bar (e.g. ``circuit breaker: ...``)."""
        if self.tty:
            self.stream.write(CLEAR_LINE + text + "\n")
            self._redraw(force=True)
        else:
            self._print(text)

    def waiting(self, text: "str | None") -> None:
        """Why no job is starting (e.g. waiting for memory); None clears it."""
        previous, self.waiting_text = self.waiting_text, text or None
        if self.tty:
            # Starting or ending a wait is news; a changing figure while waiting is not.
            self._redraw(force=(previous is None) != (self.waiting_text is None))
        elif self.waiting_text is not None and previous is None:
            self._print(self.waiting_text)  # once per wait: the figures change every poll

    def close(self) -> None:
        """Draw the final state and end the line (TTY); closing twice is fine."""
        if self._closed:
            return
        self._closed = True
        if self.tty:
            self._redraw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> "TerminalBar":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- output ----------------------------------------------------------------------------

    def _print(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _redraw(self, *, force: bool = False) -> None:
        """Rewrite the bar in place (TTY only), at most every *min_interval* unless *force*."""
        if not self.tty:
            return
        now = self._clock()
        if not force and self._last_draw is not None and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        self.stream.write(CLEAR_LINE + self.line())
        self.stream.flush()
