# SPDX-License-Identifier: GPL-3.0-or-later
"""Drawing the per-stage table: compact in the sidebar, every column in a popup."""

from ..memory.report import PipelineReport
from ..memory.report_bars import build_state, stage_bars
from ..memory.report_table import HEADERS, stage_row
from .progress_bar import draw_progress

#: Sidebar width (in unscaled pixels) from which every column fits beside the bars.
WIDE_SIDEBAR = 440


def is_wide(context) -> bool:
    """True when the region is wide enough for the table's every column."""
    scale = context.preferences.view.ui_scale * context.preferences.system.pixel_size
    return context.region is not None and context.region.width / scale >= WIDE_SIDEBAR


def draw_compact(layout, report: PipelineReport, *, wide: bool = False) -> int:
    """The table with a bar of each stage's peak against the budget; returns the rows drawn.

    Wide: one row per stage with every column. Narrow (the sidebar's default width): two
    lines per stage, its name with the RSS delta and what cleanup freed, then its bar.
    """
    bars = stage_bars(report)
    layout.label(text=f"{build_state(report).capitalize()}: {report.name}")
    if wide:
        _draw_wide(layout, bars)
    else:
        for row_data in bars.rows:
            failed = row_data.status != "ok"
            line = layout.row()
            line.alert = failed
            line.label(text=f"{row_data.name} ({row_data.status})" if failed else row_data.name)
            detail = f"{row_data.delta}, freed {row_data.freed}"
            line.label(text=detail + (f", {row_data.leaks} leaks" if row_data.leaks else ""))
            peak = f"peak {row_data.peak}"
            draw_progress(layout, row_data.fraction, peak, alert=row_data.over_soft)
    layout.label(text=bars.scale_label, icon="INFO")
    return len(bars.rows)


def _draw_wide(layout, bars) -> None:
    titles = ("Stage", "Peak RSS", "Before", "After", "Δ RSS", "Freed", "Leaks")
    grid = layout.grid_flow(row_major=True, columns=len(titles), even_columns=False, align=True)
    for title in titles:
        grid.label(text=title)
    for row_data in bars.rows:
        failed = row_data.status != "ok"
        name = grid.row()
        name.alert = failed
        name.label(text=f"{row_data.name} ({row_data.status})" if failed else row_data.name)
        draw_progress(grid, row_data.fraction, row_data.peak, alert=row_data.over_soft)
        cells = (row_data.before, row_data.after, row_data.delta, row_data.freed)
        for text in (*cells, str(row_data.leaks)):
            grid.label(text=text)


def draw_full(layout, report: PipelineReport) -> int:
    """Every column of :func:`leanroute.memory.report_table.stage_row`; returns the rows drawn."""
    layout.label(text=f"{report.name}: {build_state(report)} (~ = sampled peak)")
    grid = layout.grid_flow(row_major=True, columns=len(HEADERS), even_columns=False, align=True)
    for title in HEADERS:
        grid.label(text=title)
    for stage in report.stages:
        for cell in stage_row(stage):
            grid.label(text=cell)
    for stage in report.stages:
        if stage.error:
            layout.label(text=f"{stage.name}: {stage.error}", icon="ERROR")
    return len(report.stages)
