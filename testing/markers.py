"""The plugin's markers: their help lines and their arguments, checked (plain Python, no bpy).

A marker written wrongly (``memory_growth_limit("twenty MB")``, ``runs=1``, an unknown
keyword) raises :class:`MarkerUsageError` with a message that names the marker and says
what it accepts; the plugin turns that into a pytest usage error at collection time.
"""

from dataclasses import dataclass

from ..memory.units import parse_size

BMESH_LEAK_FREE = "bmesh_leak_free"
NO_ORPHANS = "no_orphans"
MEMORY_GROWTH_LIMIT = "memory_growth_limit"

#: Registered with ``config.addinivalue_line("markers", ...)`` (``--strict-markers`` safe).
MARKER_HELP = (
    f"{BMESH_LEAK_FREE}(scan_untracked=False): fail if the test leaves live BMeshes; they "
    "are freed and listed with their creation sites (scan_untracked: also BMeshes made "
    "by BMesh.copy() and the like, found through gc)",
    f"{NO_ORPHANS}(remove=False): fail if the test leaves orphan data-blocks it created "
    "(no users, no fake user); remove=True also removes them",
    f"{MEMORY_GROWTH_LIMIT}(limit, runs=5, warmup=1, trace_python=False, top=10): run the "
    "test body warmup + runs times (fixtures once) and fail if RSS or Blender's allocator "
    "grows by more than limit ('20 MB' or bytes) per run",
)


class MarkerUsageError(ValueError):
    """A LeanRoute marker was given arguments it cannot use."""


@dataclass(frozen=True)
class BMeshLeakFree:
    """Arguments of ``@pytest.mark.bmesh_leak_free``."""

    scan_untracked: bool = False


@dataclass(frozen=True)
class NoOrphans:
    """Arguments of ``@pytest.mark.no_orphans``."""

    remove: bool = False


@dataclass(frozen=True)
class GrowthLimit:
    """Arguments of ``@pytest.mark.memory_growth_limit``: the limit in bytes per run."""

    limit: int
    runs: int = 5
    warmup: int = 1
    trace_python: bool = False
    top: int = 10


def _bind(marker: str, args: tuple, kwargs: dict, names: tuple[str, ...]) -> dict:
    """Match positional and keyword arguments to *names*, like a call would."""
    takes = f"(it takes: {', '.join(names)})"
    if len(args) > len(names):
        raise MarkerUsageError(
            f"@pytest.mark.{marker} got {len(args)} positional arguments {takes}"
        )
    values = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in names:
            raise MarkerUsageError(f"@pytest.mark.{marker} has no argument {key!r} {takes}")
        if key in values:
            raise MarkerUsageError(f"@pytest.mark.{marker} got {key!r} twice {takes}")
        values[key] = value
    return values


def _flag(marker: str, name: str, value) -> bool:
    if not isinstance(value, bool):
        raise MarkerUsageError(
            f"@pytest.mark.{marker}: {name} must be True or False, not {value!r}"
        )
    return value


def _count(marker: str, name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise MarkerUsageError(
            f"@pytest.mark.{marker}: {name} must be a whole number >= {minimum}, not {value!r}"
        )
    return value


def bmesh_leak_free(args: tuple = (), kwargs: "dict | None" = None) -> BMeshLeakFree:
    """Check the arguments of ``bmesh_leak_free``."""
    values = _bind(BMESH_LEAK_FREE, args, kwargs or {}, ("scan_untracked",))
    return BMeshLeakFree(
        _flag(BMESH_LEAK_FREE, "scan_untracked", values.get("scan_untracked", False))
    )


def no_orphans(args: tuple = (), kwargs: "dict | None" = None) -> NoOrphans:
    """Check the arguments of ``no_orphans``."""
    values = _bind(NO_ORPHANS, args, kwargs or {}, ("remove",))
    return NoOrphans(_flag(NO_ORPHANS, "remove", values.get("remove", False)))


def memory_growth_limit(args: tuple = (), kwargs: "dict | None" = None) -> GrowthLimit:
    """Check the arguments of ``memory_growth_limit``; the limit becomes bytes."""
    name = MEMORY_GROWTH_LIMIT
    values = _bind(name, args, kwargs or {}, ("limit", "runs", "warmup", "trace_python", "top"))
    if "limit" not in values:
        raise MarkerUsageError(
            f"@pytest.mark.{name} needs a limit per run, e.g. @pytest.mark.{name}('20 MB')"
        )
    try:
        limit = parse_size(values["limit"])
    except (TypeError, ValueError) as error:
        raise MarkerUsageError(f"@pytest.mark.{name}: {error}") from None
    return GrowthLimit(
        limit=limit,
        # Two measured runs at least: a growth per run is the slope through the readings.
        runs=_count(name, "runs", values.get("runs", 5), 2),
        warmup=_count(name, "warmup", values.get("warmup", 1), 0),
        trace_python=_flag(name, "trace_python", values.get("trace_python", False)),
        top=_count(name, "top", values.get("top", 10), 1),
    )


PARSERS = {
    BMESH_LEAK_FREE: bmesh_leak_free,
    NO_ORPHANS: no_orphans,
    MEMORY_GROWTH_LIMIT: memory_growth_limit,
}
