# SPDX-License-Identifier: GPL-3.0-or-later
"""A bounded, thread-safe LRU cache that counts what it does, and a size estimator.

Every cache in LeanRoute is a ``BoundedCache``: bounded by entry count, by estimated
bytes, by age (TTL), or any mix of them. Each one registers itself (weakly) in
``cache_registry``, so stage boundaries can clear the ``stage``-scoped ones and the
panel can show every cache's statistics.

Plain Python, no ``bpy``: importable and testable without Blender.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from . import cache_registry

__all__ = [
    "BoundedCache",
    "CacheStats",
    "ClearResult",
    "estimate_size",
    "memoize",
]

T = TypeVar("T")

# Containers nested deeper than this are counted by their own size only: an estimate
# must stay cheap and must not hit the recursion limit.
_MAX_DEPTH = 16
# What sys.getsizeof reports for objects that cannot tell their size.
_UNKNOWN_SIZE = 64
_MISSING: Any = object()


def estimate_size(obj: Any, *, max_depth: int = _MAX_DEPTH) -> int:
    """Estimate the bytes ``obj`` keeps alive. An estimate, good enough for cache budgets.

    - Objects with an integer ``nbytes`` (numpy arrays, memoryviews): ``nbytes``, the size
      of the data they expose, even when it is shared with another array.
    - ``bytes``, ``bytearray``, ``str``: ``sys.getsizeof`` (data plus object header).
    - ``dict``, ``list``, ``tuple``, ``set``, ``frozenset``: the container plus its items
      (keys and values), recursively down to ``max_depth`` levels. An object reached twice
      (shared or in a cycle) is counted once.
    - Anything else: ``sys.getsizeof``, which does not follow references (an instance's
      ``__dict__`` is not included).
    """
    return _estimate(obj, max_depth, set())


def _estimate(obj: Any, depth: int, seen: set[int]) -> int:
    # Ids stay valid during one estimate: every object seen is reachable from `obj`.
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, (bytes, bytearray, str)):
        return sys.getsizeof(obj)
    # Duck-typed so that numpy need not be imported; type objects carry a descriptor instead.
    nbytes = getattr(obj, "nbytes", None)
    if isinstance(nbytes, int) and not isinstance(obj, type):
        return nbytes
    size = sys.getsizeof(obj, _UNKNOWN_SIZE)
    if depth <= 0:
        return size
    if isinstance(obj, dict):
        for key, value in obj.items():
            size += _estimate(key, depth - 1, seen) + _estimate(value, depth - 1, seen)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for item in obj:
            size += _estimate(item, depth - 1, seen)
    return size


@dataclasses.dataclass(frozen=True)
class ClearResult:
    """What one ``BoundedCache.clear()`` dropped: entry count and estimated bytes."""

    name: str
    entries: int
    bytes: int


@dataclasses.dataclass(frozen=True)
class CacheStats:
    """A snapshot of one cache's size, bounds and counters since it was created.

    ``entries`` and ``bytes`` include expired entries not yet dropped (see
    ``BoundedCache.purge_expired``).
    """

    name: str
    scope: str
    entries: int
    bytes: int
    max_entries: int | None
    max_bytes: int | None
    ttl: float | None
    hits: int
    misses: int
    evictions: int
    expirations: int
    rejected: int
    clears: int

    @property
    def hit_rate(self) -> float:
        """Hits per lookup, from 0.0 to 1.0; 0.0 before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the fields and ``hit_rate`` as a JSON-serialisable dict."""
        return {**dataclasses.asdict(self), "hit_rate": self.hit_rate}


@dataclasses.dataclass(slots=True)
class _Entry:
    value: Any
    size: int
    expires_at: float | None


class BoundedCache:
    """A thread-safe LRU cache bounded by entry count, estimated bytes and/or age.

    - ``max_entries``, ``max_bytes``: storing evicts least-recently-used entries until both
      hold. ``None`` leaves that bound off; with every bound off the cache is unbounded but
      still counts entries, bytes and lookups.
    - ``ttl``: seconds an entry stays valid after it was stored (reading does not extend
      it). An expired entry is dropped when next looked up, when it would be evicted, or by
      ``purge_expired()``.
    - ``scope``: ``"stage"`` caches are cleared at every stage boundary
      (``cache_registry.clear_scope("stage")``); ``"session"`` caches live on.
    - ``sizer``: estimates a value's bytes (default ``estimate_size``). A value larger than
      ``max_bytes`` on its own is not stored and counts as ``rejected``.
    - ``clock``: the time source for ``ttl``; tests inject a fake one.
    - ``register``: add the cache to ``cache_registry`` (weakly).

    Lookups (``get``, ``[]``, ``get_or_create``) count hits and misses; ``in``, ``pop``
    and ``len`` do not.
    """

    # Keyword-only options, each with a default: the count is not a readability problem.
    def __init__(
        self,
        name: str,
        *,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        ttl: float | None = None,
        scope: str = "session",
        sizer: Callable[[Any], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
        register: bool = True,
    ) -> None:
        cache_registry.validate_scope(scope)
        for bound, value in (("max_entries", max_entries), ("max_bytes", max_bytes)):
            if value is not None and value < 1:
                raise ValueError(f"{bound} must be at least 1 or None, got {value!r}")
        if ttl is not None and ttl <= 0:
            raise ValueError(f"ttl must be positive or None, got {ttl!r}")
        self._name = name
        self._scope = scope
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._ttl = ttl
        self._sizer = sizer if sizer is not None else estimate_size
        self._clock = clock
        self._lock = threading.RLock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self._hits = self._misses = self._evictions = 0
        self._expirations = self._rejected = self._clears = 0
        if register:
            cache_registry.register(self)

    @property
    def name(self) -> str:
        """The name shown in statistics and the panel."""
        return self._name

    @property
    def scope(self) -> str:
        """``"session"`` or ``"stage"``."""
        return self._scope

    def __repr__(self) -> str:
        return (
            f"<BoundedCache {self._name!r} scope={self._scope} entries={len(self._entries)}"
            f" bytes={self._bytes}>"
        )

    # -- lookups ---------------------------------------------------------------------------

    def get(self, key: Hashable, default: Any = None) -> Any:
        """Return the value for ``key`` (now most recently used), or ``default``."""
        with self._lock:
            value = self._lookup(key)
        return default if value is _MISSING else value

    def __getitem__(self, key: Hashable) -> Any:
        with self._lock:
            value = self._lookup(key)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and not self._expired(entry, self._clock())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get_or_create(self, key: Hashable, factory: Callable[[], T]) -> T:
        """Return the value for ``key``; on a miss, store and return ``factory()``.

        The factory runs without the lock held, so a slow factory does not block other
        threads. If two threads miss at once, both factories run and the first value
        stored wins: both callers get that one, so only one copy stays alive.
        """
        with self._lock:
            value = self._lookup(key)
        if value is not _MISSING:
            return value
        created = factory()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and not self._expired(entry, self._clock()):
                self._entries.move_to_end(key)
                return entry.value
            self._store(key, created)
        return created

    # -- changes ---------------------------------------------------------------------------

    def put(self, key: Hashable, value: Any) -> bool:
        """Store ``value`` as the most recently used entry; evict LRU entries to fit.

        Return False, and count ``rejected``, if the value alone exceeds ``max_bytes``;
        any older value for ``key`` is then dropped as well, since it is stale.
        """
        with self._lock:
            return self._store(key, value)

    def __setitem__(self, key: Hashable, value: Any) -> None:
        self.put(key, value)

    def pop(self, key: Hashable, default: Any = None) -> Any:
        """Remove ``key`` and return its value, or ``default`` if absent or expired."""
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                return default
            self._bytes -= entry.size
            if self._expired(entry, self._clock()):
                self._expirations += 1
                return default
            return entry.value

    def clear(self) -> ClearResult:
        """Drop every entry; return how many entries and estimated bytes were dropped."""
        with self._lock:
            result = ClearResult(self._name, len(self._entries), self._bytes)
            self._entries.clear()
            self._bytes = 0
            self._clears += 1
        return result

    def purge_expired(self) -> int:
        """Drop every expired entry now; return how many were dropped."""
        if self._ttl is None:
            return 0
        with self._lock:
            now = self._clock()
            expired = [k for k, entry in self._entries.items() if self._expired(entry, now)]
            for key in expired:
                self._bytes -= self._entries.pop(key).size
            self._expirations += len(expired)
        return len(expired)

    def stats(self) -> CacheStats:
        """Return a consistent snapshot of sizes, bounds and counters."""
        with self._lock:
            return CacheStats(
                name=self._name,
                scope=self._scope,
                entries=len(self._entries),
                bytes=self._bytes,
                max_entries=self._max_entries,
                max_bytes=self._max_bytes,
                ttl=self._ttl,
                hits=self._hits,
                misses=self._misses,
                evictions=self._evictions,
                expirations=self._expirations,
                rejected=self._rejected,
                clears=self._clears,
            )

    # -- internals (callers hold the lock) -------------------------------------------------

    def _expired(self, entry: _Entry, now: float) -> bool:
        return entry.expires_at is not None and now >= entry.expires_at

    def _lookup(self, key: Hashable) -> Any:
        entry = self._entries.get(key)
        if entry is None:
            self._misses += 1
            return _MISSING
        if self._expired(entry, self._clock()):
            del self._entries[key]
            self._bytes -= entry.size
            self._expirations += 1
            self._misses += 1
            return _MISSING
        self._entries.move_to_end(key)
        self._hits += 1
        return entry.value

    def _store(self, key: Hashable, value: Any) -> bool:
        # Sized before touching the table: a sizer that raises leaves the cache unchanged.
        size = int(self._sizer(value))
        if size < 0:
            raise ValueError(f"sizer of cache {self._name!r} returned {size} bytes")
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        if self._max_bytes is not None and size > self._max_bytes:
            self._rejected += 1
            return False
        now = self._clock()
        expires_at = None if self._ttl is None else now + self._ttl
        self._entries[key] = _Entry(value, size, expires_at)
        self._bytes += size
        # The new entry is last and fits on its own, so this loop never evicts it.
        while (self._max_entries is not None and len(self._entries) > self._max_entries) or (
            self._max_bytes is not None and self._bytes > self._max_bytes
        ):
            _, victim = self._entries.popitem(last=False)
            self._bytes -= victim.size
            # An expired victim was dead already: count it as what it is.
            if self._expired(victim, now):
                self._expirations += 1
            else:
                self._evictions += 1
        return True


def memoize(cache: BoundedCache) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Cache a function's results in ``cache``, keyed by its (hashable) arguments.

    The key is ``(args, frozenset(kwargs.items()))``: ``f(1)`` and ``f(x=1)`` are cached
    apart, and unhashable arguments raise TypeError. Give each function its own cache,
    since keys carry no trace of the function. The wrapper exposes ``wrapper.cache``.
    """

    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            key = (args, frozenset(kwargs.items()))
            return cache.get_or_create(key, lambda: function(*args, **kwargs))

        wrapper.cache = cache  # type: ignore[attr-defined]
        return wrapper

    return decorate
