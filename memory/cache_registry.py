# SPDX-License-Identifier: GPL-3.0-or-later
"""Registry of live bounded caches, for stage boundaries and the memory panel.

Caches are held weakly: registering never keeps a cache alive, and a cache that is
garbage collected drops out on its own. Stage boundaries call ``clear_scope("stage")``;
the panel reads ``all_stats()``.

Plain Python, no ``bpy``. This module never imports ``bounded_cache`` at run time (that
module imports this one); it only uses a cache's ``name``, ``scope``, ``clear()`` and
``stats()``.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .bounded_cache import BoundedCache, CacheStats, ClearResult

SCOPES: tuple[str, ...] = ("session", "stage")
"""Valid cache scopes: ``session`` lives until Blender quits, ``stage`` until a stage ends."""

_lock = threading.RLock()
_caches: weakref.WeakSet[BoundedCache] = weakref.WeakSet()


def validate_scope(scope: str) -> str:
    """Return ``scope`` if it is one of ``SCOPES``; raise ValueError naming it otherwise."""
    if scope not in SCOPES:
        valid = ", ".join(repr(s) for s in SCOPES)
        raise ValueError(f"unknown cache scope {scope!r}: expected one of {valid}")
    return scope


def register(cache: BoundedCache) -> None:
    """Track ``cache`` (weakly). Registering the same cache twice is harmless."""
    with _lock:
        _caches.add(cache)


def unregister(cache: BoundedCache) -> None:
    """Stop tracking ``cache``. Unregistering an unknown cache is harmless."""
    with _lock:
        _caches.discard(cache)


def caches(scope: str | None = None) -> list[BoundedCache]:
    """Return the live registered caches, sorted by name; only ``scope``'s if given.

    The list holds strong references: drop it when done so caches can still be collected.
    """
    if scope is not None:
        validate_scope(scope)
    with _lock:
        live = list(_caches)
    if scope is not None:
        live = [cache for cache in live if cache.scope == scope]
    return sorted(live, key=lambda cache: (cache.name, cache.scope))


def clear_scope(scope: str) -> list[ClearResult]:
    """Clear every registered cache of ``scope``; return what each one dropped, by name."""
    # Each cache is cleared under its own lock only, never while holding the registry's,
    # so the two locks are never taken in opposite orders.
    return [cache.clear() for cache in caches(validate_scope(scope))]


def all_stats() -> list[CacheStats]:
    """Return a statistics snapshot of every registered cache, sorted by name."""
    return [cache.stats() for cache in caches()]
