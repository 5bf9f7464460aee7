"""The batch report (JSON) and its memory timeline chart (SVG), written at a batch's end.

Plain Python: the records come from the checkpoint, so a resumed batch's report covers
every run that contributed to it.
"""

import json
from pathlib import Path

from ..progress.batch_summary import compare_reports, memory_growth, summary_lines
from ..progress.checkpoint_load import parse_json
from ..progress.record_check import report_problem
from ..progress.timeline_chart import write_timeline_svg
from ..route.atomic_files import write_text_atomic
from ..route.errors import LeanRouteError, os_error_line


def write_batch_report(
    paths, records: list[dict], header: dict, compare_to: "Path | None" = None
) -> tuple[Path, Path, list[str]]:
    """Write the report and the chart; returns their paths and the summary's memory lines.

    *compare_to* is an earlier batch report of the same jobs run with ``--no-hygiene``:
    the report then says how much memory the hygiene saved.
    """
    summary = memory_growth(records)
    report = {"batch": header, "summary": summary, "jobs": records}
    comparison = None
    if compare_to is not None:
        comparison = compare_reports(report, read_batch_report(compare_to))
        report["comparison"] = comparison
    write_text_atomic(paths.report, json.dumps(report, indent=1, default=str))
    title = f"LeanRoute batch memory: {Path(header['jobs_file']).name}"
    if header.get("shard") not in (None, "1/1"):
        title += f" (shard {header['shard']})"
    if not header.get("hygiene", True):
        title += ", hygiene off"
    write_timeline_svg(paths.chart, records, title=title, hard_budget=header.get("restart_above"))
    return paths.report, paths.chart, summary_lines(summary, comparison)


def read_batch_report(path) -> dict:
    """An earlier batch report, checked to be one (its records' shape too), or one clear line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise LeanRouteError(f"--compare-to: {os_error_line(error, path)}") from None
    data, problem = parse_json(raw)
    if problem is not None:
        raise LeanRouteError(f"--compare-to: cannot read {path}: {problem}")
    problem = report_problem(data)
    if problem is not None:
        raise LeanRouteError(f"--compare-to: {path} is not a LeanRoute batch report: {problem}")
    return data
