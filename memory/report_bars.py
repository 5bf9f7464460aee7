# SPDX-License-Identifier: GPL-3.0-or-later
"""The per-stage table's rows and bars, from a PipelineReport (plain Python, no bpy).

Each stage's bar is its peak RSS against the budget: the hard budget when one is set, else
the soft one; without a budget, against the highest peak of the build (and says so).
"""

from dataclasses import dataclass

from .report import PipelineReport, StageReport
from .units import format_bytes


@dataclass(frozen=True)
class StageBar:
    """One row of the table."""

    name: str
    status: str
    before: str
    peak: str
    after: str
    delta: str
    blender_delta: str
    freed: str
    leaks: int
    seconds: float
    fraction: float  # peak / scale, 0 to 1
    over_soft: bool
    over_hard: bool


@dataclass(frozen=True)
class StageBars:
    """Every row and what the bars are measured against."""

    rows: tuple[StageBar, ...]
    scale: "int | None"
    scale_label: str


def _freed(stage: StageReport) -> str:
    text = format_bytes(stage.cleanup.rss_freed)
    swept = stage.cleanup.orphans_total
    return f"{text}, {swept} orphans" if swept else text


#: Below this share of the hard budget, bars compare stages with the highest peak instead.
FAR_BELOW = 0.25


def stage_bars(report: PipelineReport) -> StageBars:
    """Rows for *report*'s stages, with each bar's fraction of the budget."""
    stages = report.stages
    hard = max((s.budget_hard for s in stages if s.budget_hard), default=None)
    soft = max((s.budget_soft for s in stages if s.budget_soft), default=None)
    highest = max((s.peak.rss for s in stages if s.peak.rss), default=None)
    if hard and highest and highest < hard * FAR_BELOW:
        # Far below the budget (the default one is 80 % of the machine): bars against the
        # budget would all be slivers, so they compare the stages with each other instead.
        scale = highest
        label = f"bars: peak vs highest peak (hard budget {format_bytes(hard)}, far above)"
    elif hard:
        scale, label = hard, f"bars: peak vs hard budget {format_bytes(hard)}"
    elif soft:
        scale, label = soft, f"bars: peak vs soft budget {format_bytes(soft)}"
    else:
        scale, label = highest, "bars: peak vs highest peak (no budget)"
    rows = []
    for stage in stages:
        peak = stage.peak.rss
        fraction = min(peak / scale, 1.0) if peak and scale else 0.0
        rows.append(
            StageBar(
                name=stage.name,
                status=stage.status,
                before=format_bytes(stage.before.rss),
                peak=format_bytes(peak),
                after=format_bytes(stage.after.rss),
                delta=format_bytes(stage.delta("rss"), signed=True),
                blender_delta=format_bytes(stage.delta("blender"), signed=True),
                freed=_freed(stage),
                leaks=len(stage.leaks),
                seconds=stage.wall_seconds,
                fraction=fraction,
                over_soft=bool(soft and peak and peak > soft),
                over_hard=bool(hard and peak and peak > hard),
            )
        )
    return StageBars(tuple(rows), scale, label)


def text_bar(fraction: float, width: int = 10) -> str:
    """A bar of block characters, for Blender versions without ``UILayout.progress``."""
    filled = round(max(0.0, min(fraction, 1.0)) * width)
    return "█" * filled + "░" * (width - filled)


def build_state(report: PipelineReport) -> str:
    """``ok``, ``running``, ``cancelled``/``failed`` (rolled back), for the table's header."""
    if report.results.get("rolled_back"):
        failed = [s for s in report.stages if s.status in ("failed", "stopped")]
        return f"{failed[-1].status} at {failed[-1].name}, rolled back" if failed else "cancelled"
    # A finished build has results; a report read while the build runs has none yet.
    return "ok" if report.results else "running"
