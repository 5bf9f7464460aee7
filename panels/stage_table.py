# SPDX-License-Identifier: GPL-3.0-or-later
"""Drawing the per-stage table: compact in the sidebar, every column in a popup."""

from ..memory.report import PipelineReport
from ..memory.report_bars import build_state, stage_bars
from ..memory.report_table import HEADERS, stage_row
from .progress_bar import draw_progress


def draw_compact(layout, report: PipelineReport) -> int:
    """Stage, a bar of its peak against the budget, RSS delta and freed; returns the rows drawn."""
    bars = stage_bars(report)
    layout.label(text=f"{report.name}: {build_state(report)}")
    header = layout.row()
    header.label(text="Stage")
    header.label(text="Peak RSS")
    header.label(text="Δ RSS")
    header.label(text="Freed")
    for row_data in bars.rows:
        row = layout.row()
        row.alert = row_data.over_soft or row_data.status != "ok"
        name = row_data.name if row_data.status == "ok" else f"{row_data.name} ({row_data.status})"
        row.label(text=name)
        draw_progress(row, row_data.fraction, row_data.peak, alert=row_data.over_soft)
        row.label(text=row_data.delta)
        freed = (
            row_data.freed if not row_data.leaks else f"{row_data.freed}, {row_data.leaks} leaks"
        )
        row.label(text=freed)
    layout.label(text=bars.scale_label, icon="INFO")
    return len(bars.rows)


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
