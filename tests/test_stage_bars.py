"""The per-stage table's bars and labels (plain Python)."""

from leanroute.memory.report import Peak, PipelineReport, Snapshot, StageReport
from leanroute.memory.report_bars import build_state, stage_bars, text_bar
from leanroute.memory.units import MIB
from leanroute.progress.stage_progress import StageProgress


def _stage(name, before, peak, after, **extra):
    return StageReport(
        name,
        status=extra.pop("status", "ok"),
        before=Snapshot(rss=before * MIB),
        peak=Peak(rss=peak * MIB, rss_exact=True),
        after=Snapshot(rss=after * MIB),
        **extra,
    )


def test_bars_measure_the_peak_against_the_hard_budget():
    report = PipelineReport(
        "build", [_stage("parse", 100, 150, 110, budget_hard=300 * MIB, budget_soft=140 * MIB)]
    )
    bars = stage_bars(report)
    row = bars.rows[0]
    assert row.fraction == 0.5 and row.over_soft and not row.over_hard
    assert (row.before, row.peak, row.after, row.delta) == (
        "100.0 MiB", "150.0 MiB", "110.0 MiB", "+10.0 MiB",
    )  # fmt: skip
    assert bars.scale_label == "bars: peak vs hard budget 300.0 MiB"


def test_without_a_budget_bars_are_relative_to_the_highest_peak():
    report = PipelineReport("build", [_stage("a", 10, 50, 10), _stage("b", 10, 200, 20)])
    bars = stage_bars(report)
    assert [r.fraction for r in bars.rows] == [0.25, 1.0]
    assert "no budget" in bars.scale_label


def test_build_state_and_text_bar():
    report = PipelineReport("build", [_stage("a", 1, 2, 1)])
    assert build_state(report) == "running"
    report.results = {"route": {}}
    assert build_state(report) == "ok"
    report.stages.append(_stage("b", 1, 2, 1, status="failed"))
    report.results = {"rolled_back": True}
    assert build_state(report) == "failed at b, rolled back"
    assert text_bar(0.5, 4) == "██░░" and text_bar(2.0, 2) == "██"


def test_status_line_names_the_stage_and_how_to_cancel():
    progress = StageProgress("build sample.osm", "roads", 3, 9)
    assert progress.fraction == 3 / 9
    assert progress.status_line() == "LeanRoute: build sample.osm: roads (4/9), Esc to cancel"


def test_far_below_the_hard_budget_bars_compare_the_stages():
    gib = 1024 * MIB
    report = PipelineReport(
        "build",
        [
            _stage("a", 10, 50, 10, budget_hard=19 * gib),
            _stage("b", 10, 200, 20, budget_hard=19 * gib),
        ],
    )
    bars = stage_bars(report)
    assert [r.fraction for r in bars.rows] == [0.25, 1.0]
    assert bars.scale_label == "bars: peak vs highest peak (hard budget 19.0 GiB, far above)"
