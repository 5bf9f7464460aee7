"""Sizes in bytes: parse "20 MB"-style limits and format figures for tables.

Binary units throughout, as Blender's own status bar does: "MB" and "MiB" both mean
1024 * 1024 bytes, so a limit typed as "20 MB" compares with what Blender shows.
"""

import re

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
    "t": 1024**4,
    "tb": 1024**4,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*$")
MIB = 1024**2


def parse_size(value: "str | int | float") -> int:
    """Return a size in bytes from ``"20 MB"``, ``"1.5GiB"``, ``"512k"`` or a number of bytes."""
    if isinstance(value, bool):
        raise TypeError(f"size must be a number of bytes or a string like '20 MB', not {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"size must not be negative: {value!r}")
        return int(value)
    match = _SIZE.match(str(value))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(
            f"cannot read {value!r} as a size: use a number and a unit, e.g. '20 MB', '1.5 GB'"
        )
    return int(float(match.group(1)) * _UNITS[unit])


def mib(value: "int | float | None") -> "float | None":
    """Bytes as MiB (None stays None)."""
    return None if value is None else value / MIB


def format_bytes(value: "int | float | None", *, signed: bool = False) -> str:
    """Human size for tables: ``"12.3 MiB"``, ``"+4.0 MiB"`` with *signed*; ``"—"`` for None."""
    if value is None:
        return "—"
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    size = abs(value)
    for unit, factor in (("GiB", 1024**3), ("MiB", MIB), ("KiB", 1024)):
        if size >= factor:
            return f"{sign}{size / factor:.1f} {unit}"
    return f"{sign}{size:.0f} B"


def format_count_by_type(counts: "dict[str, int]") -> str:
    """``"12 data-blocks (6 objects, 4 meshes, 2 materials)"``; ``"nothing"`` when empty."""
    total = sum(counts.values())
    if not total:
        return "nothing"
    parts = ", ".join(f"{n} {name}" for name, n in sorted(counts.items(), key=lambda i: -i[1]))
    return f"{total} data-block{'s' if total != 1 else ''} ({parts})"
