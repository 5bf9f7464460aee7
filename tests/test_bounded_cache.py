"""BoundedCache, estimate_size, memoize and the weak cache registry: plain Python, no bpy."""

import gc
import json
import sys
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator

import numpy
import pytest

from leanroute.memory import cache_registry
from leanroute.memory.bounded_cache import (
    BoundedCache,
    CacheStats,
    ClearResult,
    estimate_size,
    memoize,
)

pytestmark = pytest.mark.binary_compatible


class FakeClock:
    """A clock that only moves when told to, so TTL tests never sleep."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def unit_sizer(value: object) -> int:
    """Every value weighs what it says: ints are their own size."""
    assert isinstance(value, int)
    return value


def make_cache(**options) -> BoundedCache:
    """A cache kept out of the registry, so no test sees another's caches."""
    return BoundedCache("test", register=False, **options)


@pytest.fixture
def registered() -> Iterator[Callable[..., BoundedCache]]:
    """Make registered caches with unique names; unregister them after the test."""
    made: list[BoundedCache] = []

    def make(scope: str = "session", **options) -> BoundedCache:
        cache = BoundedCache(f"test-{scope}-{uuid.uuid4().hex}", scope=scope, **options)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        cache_registry.unregister(cache)


# -- LRU and bounds ------------------------------------------------------------------------


def test_lru_order_and_eviction_by_entries():
    cache = make_cache(max_entries=3)
    for key in "abc":
        cache[key] = key.upper()
    assert cache.get("a") == "A"  # a is now the most recent; b is the oldest
    cache["d"] = "D"
    assert "b" not in cache
    assert [key in cache for key in "acd"] == [True, True, True]
    cache["e"] = "E"  # c is the oldest now
    assert "c" not in cache
    assert len(cache) == 3
    assert cache.stats().evictions == 2


def test_storing_an_existing_key_replaces_it_and_makes_it_most_recent():
    cache = make_cache(max_entries=2, sizer=unit_sizer)
    cache["a"] = 10
    cache["b"] = 20
    cache["a"] = 5
    cache["c"] = 1
    assert "b" not in cache
    assert cache["a"] == 5
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.evictions) == (2, 6, 1)


def test_eviction_by_bytes_with_a_custom_sizer():
    cache = make_cache(max_bytes=100, sizer=unit_sizer)
    cache["a"] = 40
    cache["b"] = 40
    cache.get("a")
    cache["c"] = 30  # 110 bytes: b, the least recently used, goes
    assert "b" not in cache
    assert cache.stats().bytes == 70
    cache["d"] = 100  # needs the whole budget: everything else goes
    assert list(key for key in "abcd" if key in cache) == ["d"]
    stats = cache.stats()
    assert (stats.bytes, stats.evictions, stats.rejected) == (100, 3, 0)


def test_eviction_by_bytes_with_numpy_arrays():
    block = numpy.zeros(1000, dtype=numpy.float64)  # 8000 bytes
    cache = make_cache(max_bytes=20_000)
    for index in range(3):
        cache[index] = block.copy()
    assert 0 not in cache
    assert [index in cache for index in (1, 2)] == [True, True]
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.evictions) == (2, 16_000, 1)


def test_an_item_larger_than_max_bytes_is_rejected():
    cache = make_cache(max_bytes=100, sizer=unit_sizer)
    cache["small"] = 50
    assert cache.put("huge", 101) is False
    assert "huge" not in cache
    assert cache["small"] == 50  # nothing was evicted for a value that cannot fit
    cache["small"] = 500  # the stale smaller value must not survive a rejected update
    assert "small" not in cache
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.rejected, stats.evictions) == (0, 0, 2, 0)


def test_without_bounds_the_cache_grows_but_still_counts():
    cache = make_cache(sizer=unit_sizer)
    for value in range(1, 101):
        cache[value] = value
    cache.get(1)
    cache.get("absent")
    stats = cache.stats()
    assert (stats.max_entries, stats.max_bytes, stats.ttl) == (None, None, None)
    assert (stats.entries, stats.bytes, stats.evictions) == (100, 5050, 0)
    assert (stats.hits, stats.misses) == (1, 1)


# -- TTL -----------------------------------------------------------------------------------


def test_entries_expire_after_ttl():
    clock = FakeClock()
    cache = make_cache(ttl=10.0, clock=clock, sizer=unit_sizer)
    cache["a"] = 7
    clock.advance(9.9)
    assert cache.get("a") == 7  # reading does not extend the entry's life
    clock.advance(0.1)
    assert cache.get("a", "gone") == "gone"
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.expirations) == (1, 1, 1)
    assert (stats.entries, stats.bytes) == (0, 0)


def test_contains_honours_ttl_and_changes_no_counter():
    clock = FakeClock()
    cache = make_cache(ttl=5.0, clock=clock)
    cache["a"] = 1
    assert "a" in cache
    clock.advance(5.0)
    assert "a" not in cache
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.expirations) == (0, 0, 0)


def test_purge_expired_drops_only_expired_entries():
    clock = FakeClock()
    cache = make_cache(ttl=10.0, clock=clock, sizer=unit_sizer)
    cache["old"] = 1
    clock.advance(6)
    cache["new"] = 2
    clock.advance(6)
    assert cache.purge_expired() == 1
    assert "new" in cache
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.expirations) == (1, 2, 1)


def test_an_expired_lru_victim_counts_as_an_expiration():
    clock = FakeClock()
    cache = make_cache(max_entries=1, ttl=1.0, clock=clock)
    cache["a"] = 1
    clock.advance(2)
    cache["b"] = 2
    stats = cache.stats()
    assert (stats.evictions, stats.expirations) == (0, 1)


def test_pop_of_an_expired_entry_returns_the_default():
    clock = FakeClock()
    cache = make_cache(ttl=1.0, clock=clock)
    cache["a"] = 1
    clock.advance(1)
    assert cache.pop("a", "default") == "default"
    assert len(cache) == 0
    assert cache.stats().expirations == 1


# -- counters and results ------------------------------------------------------------------


def test_hit_miss_counters_hit_rate_and_to_dict():
    cache = make_cache(max_entries=10)
    assert cache.stats().hit_rate == 0.0
    cache["a"] = 1
    cache.get("a")
    _ = cache["a"]
    cache.get("b")
    with pytest.raises(KeyError):
        _ = cache["b"]
    stats = cache.stats()
    assert isinstance(stats, CacheStats)
    assert (stats.hits, stats.misses) == (2, 2)
    assert stats.hit_rate == pytest.approx(0.5)
    data = json.loads(json.dumps(stats.to_dict()))
    assert data["name"] == "test"
    assert data["scope"] == "session"
    assert data["max_entries"] == 10
    assert data["hit_rate"] == pytest.approx(0.5)
    assert set(data) == {
        "name",
        "scope",
        "entries",
        "bytes",
        "max_entries",
        "max_bytes",
        "ttl",
        "hits",
        "misses",
        "evictions",
        "expirations",
        "rejected",
        "clears",
        "hit_rate",
    }


def test_stats_are_frozen():
    stats = make_cache().stats()
    with pytest.raises(AttributeError):
        stats.hits = 5  # type: ignore[misc]


def test_contains_pop_and_len_change_no_lookup_counter():
    cache = make_cache()
    cache["a"] = 1
    assert "a" in cache
    assert "b" not in cache
    assert len(cache) == 1
    assert cache.pop("a") == 1
    assert cache.pop("a") is None
    assert cache.pop("a", "x") == "x"
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries, stats.bytes) == (0, 0, 0, 0)


def test_clear_returns_what_it_dropped():
    cache = make_cache(sizer=unit_sizer)
    cache["a"] = 3
    cache["b"] = 4
    assert cache.clear() == ClearResult("test", 2, 7)
    assert len(cache) == 0
    assert cache.clear() == ClearResult("test", 0, 0)
    stats = cache.stats()
    assert (stats.clears, stats.entries, stats.bytes) == (2, 0, 0)


def test_get_or_create_calls_the_factory_only_on_a_miss():
    cache = make_cache()
    calls = []

    def factory() -> None:
        calls.append(1)  # returns None: a stored None must still count as stored

    assert cache.get_or_create("k", factory) is None
    assert cache.get_or_create("k", factory) is None
    assert len(calls) == 1
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1)


def test_get_or_create_returns_an_oversized_value_without_storing_it():
    cache = make_cache(max_bytes=10, sizer=unit_sizer)
    assert cache.get_or_create("k", lambda: 11) == 11
    assert "k" not in cache
    assert cache.stats().rejected == 1


def test_memoize_caches_by_args_and_kwargs():
    calls = []

    @memoize(make_cache(max_entries=8))
    def area(width: int, height: int = 1) -> int:
        """Multiply, noting each real call."""
        calls.append((width, height))
        return width * height

    assert area(2, 3) == 6
    assert area(2, 3) == 6
    assert area(2, height=3) == 6  # other key: keyword arguments are keyed apart
    assert area(2, height=3) == 6
    assert calls == [(2, 3), (2, 3)]
    assert area.__name__ == "area"
    assert area.__doc__ == "Multiply, noting each real call."
    stats = area.cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (2, 2, 2)
    with pytest.raises(TypeError):
        area([2], 3)  # unhashable arguments cannot be keys


# -- validation and estimate_size ----------------------------------------------------------


def test_a_bad_scope_is_refused_by_name():
    with pytest.raises(ValueError, match="'galaxy'"):
        BoundedCache("bad", scope="galaxy", register=False)


@pytest.mark.parametrize(
    "options", [{"max_entries": 0}, {"max_bytes": -1}, {"ttl": 0}, {"ttl": -2.5}]
)
def test_bounds_must_be_positive(options: dict):
    with pytest.raises(ValueError, match=next(iter(options))):
        BoundedCache("bad", register=False, **options)


def test_estimate_size_of_common_values():
    array = numpy.ones((10, 10), dtype=numpy.float32)
    assert estimate_size(array) == 400
    assert estimate_size(array[:5]) == 200  # a view counts the data it exposes
    assert estimate_size(memoryview(b"x" * 50)) == 50
    assert estimate_size(b"x" * 1000) >= 1000
    assert estimate_size("y" * 1000) >= 1000
    assert estimate_size([array, array]) >= 400  # shared once, counted once
    assert estimate_size([array, array]) < 800
    assert estimate_size({"a": b"x" * 1000, "b": (b"y" * 500,)}) >= 1500
    assert estimate_size(numpy.ndarray) > 0  # the class, not an array


def test_estimate_size_survives_cycles_and_deep_nesting():
    cyclic: list = [b"x" * 100]
    cyclic.append(cyclic)
    assert 100 <= estimate_size(cyclic) < 1000
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    assert estimate_size(deep) > 0  # depth-limited: no RecursionError
    assert estimate_size(deep, max_depth=0) == sys.getsizeof(deep)


# -- thread safety -------------------------------------------------------------------------


def test_threads_hammering_one_cache_keep_its_invariants():
    cache = make_cache(max_entries=50, max_bytes=400, sizer=unit_sizer)
    threads_count, rounds = 8, 2000
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def hammer(seed: int) -> None:
        try:
            start.wait()
            for step in range(rounds):
                key = (seed * 7 + step) % 120
                if step % 3 == 0:
                    cache[key] = key % 20
                elif step % 3 == 1:
                    cache.get(key)
                else:
                    value = cache.get_or_create(key, lambda key=key: key % 20)
                    assert value == key % 20
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    workers = [threading.Thread(target=hammer, args=(seed,)) for seed in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    stats = cache.stats()
    assert stats.entries == len(cache) <= 50
    assert stats.bytes <= 400
    lookups_per_thread = sum(1 for step in range(rounds) if step % 3)
    assert stats.hits + stats.misses == threads_count * lookups_per_thread
    # The byte count must match the entries actually stored.
    stored = [cache.pop(key) for key in range(120)]
    assert sum(value for value in stored if value is not None) == stats.bytes
    assert cache.stats().bytes == 0


# -- registry ------------------------------------------------------------------------------


def test_clear_scope_clears_stage_caches_and_keeps_session_ones(registered):
    stage = registered("stage", sizer=unit_sizer)
    session = registered("session", sizer=unit_sizer)
    stage["a"] = 5
    stage["b"] = 6
    session["a"] = 7
    results = cache_registry.clear_scope("stage")
    assert ClearResult(stage.name, 2, 11) in results
    assert all(result.name != session.name for result in results)
    assert len(stage) == 0
    assert session["a"] == 7
    assert stage.stats().clears == 1
    assert session.stats().clears == 0


def test_caches_filters_by_scope_and_sorts_by_name(registered):
    first, second = registered("stage"), registered("stage")
    session = registered("session")
    names = [cache.name for cache in cache_registry.caches()]
    assert names == sorted(names)
    stage_caches = cache_registry.caches("stage")
    assert first in stage_caches
    assert second in stage_caches
    assert session not in stage_caches
    assert session in cache_registry.caches("session")
    stats_names = [stats.name for stats in cache_registry.all_stats()]
    assert {first.name, second.name, session.name} <= set(stats_names)
    assert stats_names == sorted(stats_names)


def test_register_false_and_unregister_keep_a_cache_out():
    unregistered = BoundedCache(f"test-{uuid.uuid4().hex}", register=False)
    assert unregistered not in cache_registry.caches()
    cache = BoundedCache(f"test-{uuid.uuid4().hex}")
    assert cache in cache_registry.caches()
    cache_registry.unregister(cache)
    cache_registry.unregister(cache)  # twice is harmless
    assert cache not in cache_registry.caches()


def test_a_deleted_cache_vanishes_from_the_registry():
    name = f"test-{uuid.uuid4().hex}"
    cache = BoundedCache(name, scope="stage")
    cache["a"] = numpy.zeros(10)
    gone = weakref.ref(cache)
    assert name in [c.name for c in cache_registry.caches()]
    del cache
    gc.collect()
    assert gone() is None
    assert name not in [c.name for c in cache_registry.caches()]
    assert name not in [r.name for r in cache_registry.clear_scope("stage")]


def test_the_registry_refuses_a_bad_scope():
    with pytest.raises(ValueError, match="'galaxy'"):
        cache_registry.clear_scope("galaxy")
    with pytest.raises(ValueError, match="'galaxy'"):
        cache_registry.caches("galaxy")
