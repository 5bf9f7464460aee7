"""The words of the plugin's failures: what was left or grew, by how much, and where (no bpy).

Every function returns one paragraph for a test failure; sizes use binary units, as
Blender's status bar does (see :mod:`leanroute.memory.units`).
"""

from collections import defaultdict
from pathlib import Path

from ..memory.growth import LeakCheckReport, fitted_slope
from ..memory.report import BMeshLeak
from ..memory.units import MIB, format_bytes

#: The site given to a BMesh that the untracked scan found (not made through bmesh.new).
UNTRACKED_SITE = "unknown site (not made by bmesh.new, e.g. BMesh.copy())"
METRIC_LABELS = {"rss": "RSS", "blender": "Blender's allocator"}
#: Names listed per data-block type before "and N more".
NAMES_SHOWN = 8
#: Per-run readings listed in full up to this many; longer series are shortened with "…".
READINGS_SHOWN = 10
#: Python allocation sites that grew by less than this are noise, not the test's growth.
SITE_MIN_GROWTH = 4096


def plural(count: int, word: str, words: "str | None" = None) -> str:
    """``"1 BMesh"``, ``"2 BMeshes"``: *count* and the right form of *word*."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def short_path(path: str, root: "Path | str | None") -> str:
    """*path* relative to *root* (symlinks resolved) when it lies inside, else unchanged."""
    if root is None:
        return path
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except (ValueError, OSError):
        return path


def short_site(site: str, root: "Path | str | None") -> str:
    """A ``file:line`` site with the file made relative to *root*."""
    path, sep, line = site.rpartition(":")
    if not sep or not line.isdigit():
        return site
    return f"{short_path(path, root)}:{line}"


def bmesh_leaks(leaks: "list[BMeshLeak]", root: "Path | str | None" = None) -> str:
    """``"2 BMeshes left alive by the test (freed now): tests/test_x.py:12 (new: …), …"``."""
    items = []
    for leak in leaks:
        sizes = f"{leak.verts} verts, {leak.edges} edges, {leak.faces} faces"
        if leak.site == UNTRACKED_SITE:
            items.append(f"{leak.site} (untracked: {sizes})")
        else:
            items.append(f"{short_site(leak.site, root)} (new: {sizes})")
    head = plural(len(leaks), "BMesh", "BMeshes")
    return f"{head} left alive by the test (freed now): {', '.join(items)}"


def orphans(found: "list[tuple[str, str]]", *, removed: int = 0) -> str:
    """``"3 orphan data-blocks created by the test and left behind: meshes 'Grid', …"``.

    *found* holds ``(bpy.data collection, name)`` pairs; *removed* is how many data-blocks
    were removed afterwards (0: none; more than found: also what only they used).
    """
    by_type: dict[str, list[str]] = defaultdict(list)
    for collection, name in found:
        by_type[collection].append(name)
    parts = []
    for collection, unsorted in sorted(by_type.items(), key=lambda item: (-len(item[1]), item[0])):
        names = sorted(unsorted)
        shown = ", ".join(f"'{name}'" for name in names[:NAMES_SHOWN])
        more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
        parts.append(f"{collection} {shown}{more}")
    head = plural(len(found), "orphan data-block")
    text = f"{head} created by the test and left behind: {'; '.join(parts)}"
    if removed:
        extra = removed - len(found)
        also = f", with {plural(extra, 'data-block')} only they used" if extra > 0 else ""
        text += f" (removed now{also})"
    return text


def _signed_count(value: float) -> str:
    if abs(value - round(value)) < 0.05:
        return f"{round(value):+d}"
    return f"{value:+.1f}"


def _readings(values: "list[int]") -> str:
    """``"310.2, 341.5, … MiB"``: readings in MiB, shortened in the middle when long."""
    numbers = [f"{value / MIB:.1f}" for value in values]
    if len(numbers) > READINGS_SHOWN:
        numbers = [*numbers[:5], "…", *numbers[-3:]]
    return f"{', '.join(numbers)} MiB"


def growth(
    report: LeakCheckReport,
    limit: int,
    over: "list[str]",
    *,
    blender_measured: bool = True,
    traced: bool = False,
    root: "Path | str | None" = None,
) -> str:
    """The failure of ``memory_growth_limit``, in the manner of pytest-memray's.

    *over* names the metrics ("rss", "blender") whose growth per run passed *limit*;
    *traced*: tracemalloc ran, so an empty ``top_python_growth`` means no Python site grew.
    """
    first = over[0]
    lines = [
        f"Test was limited to {format_bytes(limit)} of growth per run but grew "
        f"{format_bytes(report.growth[first])} per run ({METRIC_LABELS[first]}) "
        f"over {report.runs} runs",
        *_other_growth(report, first, over, blender_measured),
    ]
    for metric in ("rss", "blender"):
        values = getattr(report, metric)
        if metric in over or (metric == "rss" and values):
            lines.append(
                f"{METRIC_LABELS[metric]} after each run: {_readings(values[1:])} "
                f"(from {values[0] / MIB:.1f} MiB before the first)"
            )
    return "; ".join(lines) + "\n" + _python_sites(report, traced, root)


def _other_growth(
    report: LeakCheckReport, first: str, over: "list[str]", blender_measured: bool
) -> "list[str]":
    """The growth per run of everything but *first*: the other size, data-blocks, BMeshes."""
    lines = []
    for metric in ("rss", "blender"):
        if metric == first:
            continue
        if metric in report.growth:
            also = " (also over the limit)" if metric in over else ""
            slope = format_bytes(report.growth[metric], signed=True)
            lines.append(f"{METRIC_LABELS[metric]} {slope} per run{also}")
        elif metric == "blender" and not blender_measured:
            lines.append("Blender's allocator not measured (bpy not loaded)")
    if "datablocks" in report.growth:
        by_type = [
            f"{name} {_signed_count(fitted_slope(series))}"
            for name, series in sorted(report.datablocks_by_type.items())
            if abs(fitted_slope(series)) >= 0.05
        ]
        detail = f" ({', '.join(by_type)})" if by_type else ""
        lines.append(f"data-blocks {_signed_count(report.growth['datablocks'])} per run{detail}")
    if abs(report.growth.get("live_bmeshes", 0.0)) >= 0.05:
        lines.append(f"live BMeshes {_signed_count(report.growth['live_bmeshes'])} per run")
    return lines


def _python_sites(report: LeakCheckReport, traced: bool, root: "Path | str | None") -> str:
    if report.top_python_growth:
        sites = "\n".join(
            f"  {format_bytes(site.size_diff, signed=True)} ({site.count_diff:+d} blocks) "
            f"at {short_site(site.site, root)}"
            for site in report.top_python_growth
        )
        return (
            f"Python allocation sites that grew the most over the {report.runs} runs "
            f"(tracemalloc):\n{sites}"
        )
    if traced:
        return (
            f"No Python allocation site grew by {format_bytes(SITE_MIN_GROWTH)} or more "
            "(tracemalloc): the growth "
            "is outside Python's heap (Blender's data, C libraries)"
        )
    return "(trace_python=True lists the Python allocation sites that grew)"


def figures(
    rss_before: "int | None",
    rss_after: "int | None",
    blender_before: "int | None",
    blender_after: "int | None",
) -> str:
    """``"RSS 301.0 MiB before, 382.2 MiB after (+81.2 MiB); Blender's allocator …"``."""
    parts = []
    for label, before, after in (
        ("RSS", rss_before, rss_after),
        ("Blender's allocator", blender_before, blender_after),
    ):
        if before is None or after is None:
            parts.append(f"{label} not measured")
            continue
        parts.append(
            f"{label} {format_bytes(before)} before, {format_bytes(after)} after "
            f"({format_bytes(after - before, signed=True) if after != before else '±0'})"
        )
    return "; ".join(parts)


def guard_limit(metric: str, limit: int, before: int, after: int) -> str:
    """``"Test was limited to 50.0 MiB of RSS growth but grew 81.2 MiB"``."""
    return (
        f"Test was limited to {format_bytes(limit)} of {METRIC_LABELS[metric]} growth "
        f"but grew {format_bytes(after - before)}"
    )
