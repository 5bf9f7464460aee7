"""Read Blender's allocator figure out of the text of ``Scene.statistics()`` (no bpy)."""

import re

_MEMORY = re.compile(r"Memory:\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?i?B)", re.IGNORECASE)
_FACTORS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_statistics_memory(text: str) -> "int | None":
    """Bytes from ``"... | Memory: 8.8 MiB | 5.0.1"`` (3.x writes "MiB" too); None if absent."""
    match = _MEMORY.search(text or "")
    if match is None:
        return None
    value, unit = float(match.group(1)), match.group(2).lower()
    return int(value * _FACTORS[unit[0] if unit[0] in "kmgt" else "b"])
