"""LeanRoute's memory hygiene: BMesh scopes, stage boundaries, budgets, caches, leak checks.

The names below are imported lazily, so that the plain-Python parts (units, budgets,
caches, reports) can be used and tested without Blender; the rest need ``bpy``.
"""

import importlib

_EXPORTS = {
    "new_bmesh": "bmesh_scopes",
    "bmesh_from_mesh": "bmesh_scopes",
    "bmesh_from_object": "bmesh_scopes",
    "edit_bmesh": "bmesh_scopes",
    "BMeshScopeError": "bmesh_scopes",
    "MeshRemovedError": "bmesh_scopes",
    "live_bmeshes": "bmesh_ledger",
    "Pipeline": "pipeline",
    "stage": "pipeline",
    "Stage": "stage_boundary",
    "CleanupPolicy": "cleanup_policy",
    "GCPolicy": "gc_policy",
    "MemoryBudget": "budget",
    "MemoryBudgetExceeded": "budget",
    "MemoryBudgetForecast": "budget",
    "StageForecast": "budget",
    "BoundedCache": "bounded_cache",
    "memoize": "bounded_cache",
    "leak_check": "leak_check",
    "LeakCheckReport": "growth",
    "PipelineReport": "report",
    "StageReport": "report",
    "take_snapshot": "snapshot",
    "return_memory_to_os": "heap_trim",
    "parse_size": "units",
    "format_bytes": "units",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 - names resolved lazily by __getattr__


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
