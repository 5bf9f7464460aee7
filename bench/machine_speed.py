"""The machine's speed while a benchmark runs: a probe thread and a two-state slowdown model.

This shared VM's CPUs switch between full and about half speed for seconds at a time, each
vCPU on its own (what other guests run). Neither steal time nor CPU time shows it, so a
build's wall time says as much about the machine as about the build. Measured here, the
probe's time follows it closely: two timings of the same SHA-256 sit at ~100 or ~190 µs,
nothing between, and 1 k-building builds timed beside them take 0.16-0.19 s when the probe
reads fast and 0.26-0.28 s when it reads slow.

So a benchmark pins itself to one CPU (:func:`pin_to_one_cpu`), runs a :class:`SpeedProbe`
beside its work on that CPU, and afterwards gives each timed interval its **slow fraction**:
how slow the probe read during it, 0 (all fast) to 1 (all slow). The model is that the slow
state stretches a build by a factor *k*, ``seconds = full_speed * (1 + (k - 1) * slow)``;
:func:`fit_slowdown` finds the one *k* that makes every group of builds (each city size, the
fixed-cost build) most self-consistent, and with it each group's full-speed time.

Plain Python (no bpy); ``tests/test_machine_speed.py`` checks the model on synthetic data.
"""

import bisect
import hashlib
import math
import os
import statistics
import threading
import time
from dataclasses import dataclass

#: Bytes hashed by one probe: ~50 µs at full speed, so a probe every 20 ms takes ~0.25 % of
#: the CPU it shares with the benchmark.
PROBE_BYTES = 16_384
PROBE_PERIOD_S = 0.02
#: Below this ratio of slow to fast probe times the machine had one speed (all "fast").
MIN_STATE_RATIO = 1.3
#: Slowdown factors tried by :func:`fit_slowdown`: 1.00 to 3.00 in steps of 0.01.
SLOWDOWNS = tuple(1 + step / 100 for step in range(201))


def pin_to_one_cpu() -> int:
    """Pin this thread, and the threads it starts later, to one CPU; return the CPU.

    Each vCPU changes speed on its own, so the probe must share the benchmark's CPU, and the
    benchmark must not move to the other one mid-build.
    """
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


class SpeedProbe:
    """A thread timing a fixed piece of work every :data:`PROBE_PERIOD_S`, as a context manager.

    The work is a SHA-256 of :data:`PROBE_BYTES` bytes, which ``hashlib`` does without holding
    the GIL, so the probe neither waits for the benchmark's Python nor stops it. Samples are
    ``(start, seconds)`` pairs on :func:`time.perf_counter`'s clock.
    """

    def __init__(self, period_s: float = PROBE_PERIOD_S, size: int = PROBE_BYTES):
        self.period_s = period_s
        self.data = bytes(size)
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="speed-probe", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            started = time.perf_counter()
            hashlib.sha256(self.data).digest()
            self.samples.append((started, time.perf_counter() - started))

    def __enter__(self) -> "SpeedProbe":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class SpeedStates:
    """The probe's typical time in the machine's fast and slow states, in seconds."""

    fast_s: float
    slow_s: float

    def slowness(self, seconds: float) -> float:
        """One probe time as 0 (fast state) to 1 (slow state), linear between the two."""
        if self.slow_s <= self.fast_s:
            return 0.0
        return min(1.0, max(0.0, (seconds - self.fast_s) / (self.slow_s - self.fast_s)))


def speed_states(durations: "list[float]") -> SpeedStates:
    """The fast and slow states in *durations* (probe times), split at the geometric middle.

    The split lies between the 5th and 95th percentiles. When those differ by less than
    :data:`MIN_STATE_RATIO` the machine kept one speed: both states are that speed, and every
    interval's slow fraction is 0.
    """
    if len(durations) < 20:
        median = statistics.median(durations) if durations else 0.0
        return SpeedStates(median, median)
    cuts = statistics.quantiles(durations, n=20)
    low, high = cuts[0], cuts[-1]
    if high < low * MIN_STATE_RATIO:
        median = statistics.median(durations)
        return SpeedStates(median, median)
    split = math.sqrt(low * high)
    fast = statistics.median(d for d in durations if d < split)
    slow = statistics.median(d for d in durations if d >= split)
    return SpeedStates(fast, slow)


class SlowFractions:
    """Slow fractions of time intervals, from one probe's samples and the states in them."""

    def __init__(self, samples: "list[tuple[float, float]]"):
        ordered = sorted(samples)
        self.starts = [start for start, _ in ordered]
        self.states = speed_states([seconds for _, seconds in ordered])
        self.slowness = [self.states.slowness(seconds) for _, seconds in ordered]

    def between(self, start: float, end: float) -> float:
        """Mean slowness of the samples taken from *start* to *end*.

        An interval shorter than the probe's period may hold none: then the sample nearest
        before its end stands for it (0 if there is none at all).
        """
        first = bisect.bisect_left(self.starts, start)
        last = bisect.bisect_left(self.starts, end)
        if last > first:
            return statistics.fmean(self.slowness[first:last])
        return self.slowness[last - 1] if last else 0.0


def full_speed(seconds: float, slow: float, slowdown: float) -> float:
    """*seconds* taken with slow fraction *slow*, as they would have been at full speed."""
    return seconds / (1 + (slowdown - 1) * slow)


def fit_slowdown(groups: "dict[str, list[tuple[float, float]]]") -> "tuple[float, dict]":
    """The slowdown factor that fits *groups* best, and each group's full-speed time.

    *groups* maps a name to ``(slow fraction, seconds)`` pairs of runs of the same work. For
    each factor in :data:`SLOWDOWNS`, each run becomes a full-speed time and each group's
    estimate is their mean; the factor kept is the one with the least squared relative
    spread of the runs around their group's estimate. Returns ``(factor, {name: seconds})``.
    With no slow time at all every factor fits equally and the first, 1.0, is kept.
    """
    best = None
    for slowdown in SLOWDOWNS:
        estimates, error = {}, 0.0
        for name, runs in groups.items():
            times = [full_speed(seconds, slow, slowdown) for slow, seconds in runs]
            estimate = estimates[name] = statistics.fmean(times)
            error += sum((value / estimate - 1) ** 2 for value in times)
        if best is None or error < best[0] - 1e-12:
            best = (error, slowdown, estimates)
    return best[1], best[2]
