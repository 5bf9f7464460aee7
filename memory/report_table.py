"""The compact per-stage table for the terminal and the N-panel (plain text, no bpy)."""

from .report import PipelineReport, StageReport
from .units import format_bytes

HEADERS = (
    "stage",
    "status",
    "time",
    "before",
    "peak",
    "after",
    "delta",
    "blender",
    "freed",
    "leaks",
)


def stage_row(stage: StageReport) -> tuple[str, ...]:
    """One stage as table cells: RSS before/peak/after/delta, Blender's delta, cleanup, leaks.

    ``freed`` is what the cleanup gave back (RSS) plus the orphan data-blocks it removed;
    ``leaks`` counts BMeshes the sweeper had to free.
    """
    freed = format_bytes(stage.cleanup.rss_freed)
    if stage.cleanup.orphans_total:
        freed += f", {stage.cleanup.orphans_total} orphans"
    peak = format_bytes(stage.peak.rss)
    if stage.peak.rss is not None and not stage.peak.rss_exact:
        peak += "~"
    return (
        stage.name,
        stage.status,
        f"{stage.wall_seconds:.2f}s",
        format_bytes(stage.before.rss),
        peak,
        format_bytes(stage.after.rss),
        format_bytes(stage.delta("rss"), signed=True),
        format_bytes(stage.delta("blender"), signed=True),
        freed,
        str(len(stage.leaks)),
    )


def format_table(report: PipelineReport, *, show_leak_sites: bool = True) -> str:
    """Text table of every stage; leak sites and errors listed under it."""
    rows = [HEADERS, *(stage_row(stage) for stage in report.stages)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = [f"{report.name}: memory by stage (RSS unless named; ~ = sampled peak)"]
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    for stage in report.stages:
        if stage.error:
            lines.append(f"{stage.name}: {stage.status}: {stage.error}")
        if show_leak_sites:
            sites: dict[str, int] = {}
            for leak in stage.leaks:
                sites[leak.site] = sites.get(leak.site, 0) + 1
            lines.extend(
                f"{stage.name}: {count} leaked BMesh(es) freed by the sweeper, created at {site}"
                for site, count in sites.items()
            )
    return "\n".join(lines)
