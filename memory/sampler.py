"""A background thread that samples this process's RSS at a fixed interval.

It reads only the operating system's figures, never ``bpy``: Blender's data may be
changed by the main thread at any moment, and ``bpy.app.timers`` never fire while a
headless script runs. Each sample feeds the open peak windows, a bounded timeline and
any watchers (the memory budget's circuit breaker).
"""

import contextlib
import threading
import time
from collections.abc import Callable

from .peak import observe_all
from .process_memory import rss_bytes

Watcher = Callable[[int], None]


class MemorySampler:
    """Samples RSS every *interval* seconds while started; usable as a context manager."""

    def __init__(self, interval: float = 0.01, *, max_points: int = 4096):
        if interval <= 0:
            raise ValueError(f"sampler interval must be positive seconds, not {interval!r}")
        self.interval = interval
        self.max_points = max_points
        self._stride = 1
        self._tick = 0
        self._timeline: list[tuple[float, int]] = []
        self._watchers: list[Watcher] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._starts = 0
        self.samples = 0
        self.watch_errors: list[str] = []

    @property
    def running(self) -> bool:
        """True while the sampling thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "MemorySampler":
        """Start sampling (counted: nested starts need as many stops)."""
        self._starts += 1
        if not self.running:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="leanroute-memory-sampler", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling once every start has been matched."""
        self._starts = max(self._starts - 1, 0)
        if self._starts == 0 and self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def __enter__(self) -> "MemorySampler":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def add_watcher(self, watcher: Watcher) -> None:
        """Call *watcher(rss)* from the sampler thread after every sample."""
        with self._lock:
            self._watchers.append(watcher)

    def remove_watcher(self, watcher: Watcher) -> None:
        """Stop calling *watcher*."""
        with self._lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    def timeline(self) -> list[tuple[float, int]]:
        """Sampled (time.monotonic(), rss) pairs, thinned evenly to at most max_points."""
        with self._lock:
            return list(self._timeline)

    def sample_now(self) -> "int | None":
        """Take one sample immediately (from any thread)."""
        value = rss_bytes()
        if value is None:
            return None
        observe_all(value)
        with self._lock:
            self.samples += 1
            self._tick += 1
            if self._tick % self._stride == 0:
                self._timeline.append((time.monotonic(), value))
                if len(self._timeline) > self.max_points:
                    # Keep every other point and sample the timeline half as often.
                    self._timeline = self._timeline[::2]
                    self._stride *= 2
            watchers = list(self._watchers)
        for watcher in watchers:
            try:
                watcher(value)
            except Exception as error:
                self.watch_errors.append(repr(error))
        return value

    def _run(self) -> None:
        while not self._stop.is_set():
            # A stage's allocation limit (allocation_limit) may refuse a sample's few bytes:
            # that stage is being stopped; sample again at the next tick.
            with contextlib.suppress(MemoryError):
                self.sample_now()
            self._stop.wait(self.interval)
