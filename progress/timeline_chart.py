# SPDX-License-Identifier: GPL-3.0-or-later
"""A batch's memory over its jobs and their stages, as a self-contained SVG file.

Each job is an equal-width slot; inside it the stages' before/peak/after figures, so
peaks show as spikes, then the job's settled ``after``: a flat row of settled dots is
what "memory stays flat" looks like. Hand-written XML text, no dependencies, no bpy.
"""

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from ..memory.units import MIB, format_bytes
from ..route.atomic_files import write_text_atomic
from .batch_summary import memory_growth, starts_new_process

COLOURS = {"rss": "#1f5fa8", "blender": "#e07b00"}
_NAMES = {"rss": "RSS (process)", "blender": "Blender allocator"}
_MAX_JOB_LABELS = 25
_MAX_PROCESS_LABELS = 12
_DENSE_SLOT = 6.0  # px; narrower job slots draw the settled figures as a line
_MIN_POINT_SPACING = 1.5  # px; closer than this a slot shows only before/peak/after
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0


def _text(value) -> str:
    """*value* as XML text, safe in an element or a double-quoted attribute."""
    return escape(_CONTROL.sub("?", str(value)), {'"': "&quot;"})


def _figures(source: dict, metric: str) -> dict:
    return source.get(metric) or {}


def _slot_points(record: dict, metric: str, detailed: bool) -> "list[float | None]":
    """The figures a job's slot plots, in order (None where a figure is missing)."""
    metrics = record.get("metrics") or {}
    job = _figures(metrics, metric)
    stages = metrics.get("stages") or []
    if detailed and stages:
        values = []
        for stage in stages:
            figures = _figures(stage, metric)
            values += [figures.get("before"), figures.get("peak"), figures.get("after")]
        return [*values, job.get("after")]
    peak = job.get("peak")
    if peak is None:
        stage_peaks = [_figures(s, metric).get("peak") for s in stages]
        peak = max((p for p in stage_peaks if p is not None), default=None)
    return [job.get("before"), peak, job.get("after")]


def nice_ticks(top: float, count: int = 5) -> "list[float]":
    """Round tick values from 0 up to at least *top* (about *count* steps)."""
    if not top or top <= 0 or not math.isfinite(top):
        top = 100.0
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    steps = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(steps + 1)]


def _per_job_text(summary: dict, metric: str) -> str:
    growth = summary[metric]
    if summary["measured_jobs"] < 2:
        return "one job: no growth figure"
    if growth["per_job"] is None:
        return "n/a"
    per_job = round(growth["per_job"] / MIB, 1) + 0.0  # + 0.0: no "-0.0"
    return f"{per_job:+.1f} MiB/job after the first"


def _subtitle(records: "list[dict]") -> str:
    summary = memory_growth(records)
    if not summary["jobs"]:
        return "no finished jobs yet"
    text = (
        f"RSS after each job: {_per_job_text(summary, 'rss')}; "
        f"Blender allocator: {_per_job_text(summary, 'blender')}"
    )
    if summary["processes"] > 1:
        text += f" (longest of {summary['processes']} processes, {summary['measured_jobs']} jobs)"
    return text


def _empty_svg(title: str, width: int, height: int) -> str:
    return "\n".join(
        [
            _svg_open(title, width, height),
            f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" '
            f'fill="#666" font-size="16">no jobs yet</text>',
            "</svg>\n",
        ]
    )


def _svg_open(title: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">\n'
        f"<title>{_text(title)}</title>\n"
        f'<rect width="{width}" height="{height}" fill="#fff"/>\n'
        f'<text x="10" y="20" font-size="15" font-weight="bold">{_text(title)}</text>'
    )


@dataclass(frozen=True)
class _Frame:
    """Where the plot sits: slot *i* starts at ``x(i)``; ``y(bytes)`` is the height."""

    left: float
    top: float
    width: float
    height: float
    slot: float
    y_top_mib: float

    def x(self, slot: float) -> float:
        return self.left + slot * self.slot

    def y(self, value: float) -> float:
        return self.top + self.height - (value / MIB) / self.y_top_mib * self.height


def _series(records: "list[dict]", left: float, slot: float) -> "tuple[dict, dict]":
    """(x, figure) of every point per metric, and of each job's settled ``after``.

    Both metrics get the same x positions, so their series line up point for point.
    """
    detailed = all(
        slot / (3 * len((r.get("metrics") or {}).get("stages") or []) + 1) >= _MIN_POINT_SPACING
        for r in records
    )
    series: dict[str, list] = {m: [] for m in COLOURS}
    settled: dict[str, list] = {m: [] for m in COLOURS}
    pad = slot * 0.12
    for index, record in enumerate(records):
        x0 = left + index * slot + pad
        for metric in COLOURS:
            values = _slot_points(record, metric, detailed)
            step = (slot - 2 * pad) / (len(values) - 1)
            series[metric] += [(x0 + i * step, v) for i, v in enumerate(values)]
            after = _figures(record.get("metrics") or {}, metric).get("after")
            settled[metric].append((x0 + (len(values) - 1) * step, after))
    return series, settled


def _failed_slots(frame: _Frame, records: "list[dict]", failed: "list[int]") -> "list[str]":
    """A light red slot per failed job, with its id while there are few enough to read."""
    # At least 3 px wide, so a failure among hundreds of jobs still shows.
    shade = max(frame.slot, 3.0)
    out = [
        f'<rect class="failed" x="{frame.x(i + 0.5) - shade / 2:.1f}" y="{frame.top}" '
        f'width="{shade:.1f}" height="{frame.height}" fill="#fcc" fill-opacity="0.8"/>'
        for i in failed
    ]
    if len(failed) <= _MAX_JOB_LABELS:
        for i in failed:
            cx, cy = frame.x(i + 0.5), frame.top + 4
            out.append(
                f'<text x="{cx:.1f}" y="{cy}" font-size="9" fill="#b00" '
                f'transform="rotate(90 {cx:.1f} {cy})">'
                f"failed: {_text(records[i].get('id', '?'))}</text>"
            )
    return out


def _axes(frame: _Frame, ticks: "list[float]") -> "list[str]":
    """Grid lines and MiB ticks (one path for the grid), and the two axes."""
    right, bottom = frame.left + frame.width, frame.top + frame.height
    grid = " ".join(f"M{frame.left} {frame.y(t * MIB):.1f}H{right}" for t in ticks)
    out = [f'<path d="{grid}" stroke="#e4e4e4" fill="none"/>']
    out += [
        f'<text x="{frame.left - 6}" y="{frame.y(t * MIB) + 4:.1f}" text-anchor="end">{t:g}</text>'
        for t in ticks
    ]
    middle = frame.top + frame.height / 2
    out.append(
        f'<text x="14" y="{middle:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {middle:.0f})">MiB</text>'
    )
    out.append(f'<path d="M{frame.left} {frame.top}V{bottom}H{right}" stroke="#333" fill="none"/>')
    return out


def _process_changes(frame: _Frame, changes: "list[int]") -> "list[str]":
    """A dashed line where a new process took over; labelled while there are few."""
    if not changes:
        return []
    bottom = frame.top + frame.height
    path = " ".join(f"M{frame.x(i):.1f} {frame.top}V{bottom}" for i in changes)
    out = [
        f'<path class="new-process" d="{path}" stroke="#888" stroke-dasharray="4 3" fill="none"/>'
    ]
    if len(changes) <= _MAX_PROCESS_LABELS:
        out += [
            f'<text x="{frame.x(i) + 3:.1f}" y="{frame.top + 10}" font-size="9" fill="#666">'
            f"new process</text>"
            for i in changes
        ]
    return out


def _job_labels(frame: _Frame, records: "list[dict]") -> "list[str]":
    """Job ids under the axis at 45 degrees; every n-th one when there are many."""
    step = max(1, math.ceil(len(records) / _MAX_JOB_LABELS))
    cy = frame.top + frame.height + 12
    out = []
    for i in range(0, len(records), step):
        cx = frame.x(i + 0.5)
        out.append(
            f'<text x="{cx:.1f}" y="{cy}" text-anchor="end" font-size="9" '
            f'transform="rotate(-45 {cx:.1f} {cy})">{_text(records[i].get("id", i + 1))}</text>'
        )
    return out


def _budget_line(frame: _Frame, hard_budget: int) -> "list[str]":
    yb, right = frame.y(hard_budget), frame.left + frame.width
    return [
        f'<path class="hard-budget" d="M{frame.left} {yb:.1f}H{right}" stroke="#d00" '
        f'stroke-dasharray="6 4" fill="none"/>',
        f'<text x="{right - 4}" y="{yb - 4:.1f}" text-anchor="end" fill="#d00">'
        f"hard budget {_text(format_bytes(hard_budget))}</text>",
    ]


def _lines(frame: _Frame, series: dict, settled: dict) -> "list[str]":
    """One polyline per metric (missing figures skipped), and its settled figures as one path.

    With narrow slots the stage spikes merge into a band that would hide the settled
    figures, so the spikes fade and the settled figures become a line drawn on top.
    """
    dense = frame.slot < _DENSE_SLOT
    out = []
    for metric, colour in COLOURS.items():
        points = " ".join(f"{x:.1f},{frame.y(v):.1f}" for x, v in series[metric] if v is not None)
        if points:
            fade = ' stroke-opacity="0.35"' if dense else ""
            out.append(
                f'<polyline class="{metric}" points="{points}" fill="none" stroke="{colour}" '
                f'stroke-width="{0.8 if dense else 1.2}"{fade} stroke-linejoin="round"/>'
            )
    for metric, colour in COLOURS.items():
        if dense:
            parts, gap = [], True
            for x, v in settled[metric]:
                if v is not None:
                    parts.append(f"{'M' if gap else 'L'}{x:.1f} {frame.y(v):.1f}")
                gap = v is None
            dots, style = "".join(parts), 'stroke-width="1.6" fill="none"'
        else:
            dots = "".join(
                f"M{x:.1f} {frame.y(v):.1f}h0" for x, v in settled[metric] if v is not None
            )
            size = min(5.0, max(2.5, frame.slot / 4))
            style = f'stroke-width="{size:.1f}" stroke-linecap="round"'
        if dots:
            out.append(f'<path class="{metric}-settled" d="{dots}" stroke="{colour}" {style}/>')
    return out


def _legend(x: float, y: float, entries: "list[tuple[str, str]]") -> "list[str]":
    """One row of (stroke style, name) samples from (*x*, *y*)."""
    out = []
    for style, name in entries:
        sample = f"M{x + 9} {y}h0" if "linecap" in style else f"M{x} {y}h18"
        out.append(f'<path d="{sample}" {style} fill="none"/>')
        out.append(f'<text x="{x + 24}" y="{y + 4}">{_text(name)}</text>')
        x += 24 + 6.5 * len(name) + 18  # a rough text width: no font metrics without a renderer
    return out


def timeline_svg(
    records: "list[dict]",
    *,
    title: str = "LeanRoute batch memory",
    hard_budget: "int | None" = None,
    width: int = 1000,
    height: int = 420,
) -> str:
    """SVG text of RSS and Blender's allocator across *records* (run order) and their stages."""
    if not records:
        return _empty_svg(title, width, height)
    left, top = 64, 64
    plot_w, plot_h = max(width - left - 16, 10), max(height - top - 96, 10)
    slot = plot_w / len(records)
    series, settled = _series(records, left, slot)
    figures = [v for points in series.values() for _, v in points if v is not None]
    # A budget far above the figures would squash them flat at the bottom: it is then
    # named in the legend, not drawn.
    budget_off_scale = bool(hard_budget) and hard_budget > 2 * max(figures, default=0)
    drawn_budget = None if budget_off_scale else hard_budget
    highest = max([*figures, drawn_budget or 0], default=0)
    ticks = nice_ticks(highest / MIB * 1.05)  # a little headroom above the highest peak
    frame = _Frame(left, top, plot_w, plot_h, slot, ticks[-1])
    failed = [i for i, r in enumerate(records) if r.get("status") == "failed"]
    changes = [i for i in range(1, len(records)) if starts_new_process(records[i - 1], records[i])]

    legend = [(f'stroke="{c}"', _NAMES[m]) for m, c in COLOURS.items()]
    settled_sample = (
        'stroke="#333" stroke-width="1.6"'
        if slot < _DENSE_SLOT
        else 'stroke="#333" stroke-width="4" stroke-linecap="round"'
    )
    legend.append((settled_sample, "settled after job"))
    if changes:
        legend.append(('stroke="#888" stroke-dasharray="4 3"', f"new process ({len(changes)})"))
    if drawn_budget:
        legend.append(('stroke="#d00" stroke-dasharray="6 4"', "hard budget"))
    elif hard_budget:
        legend.append(('stroke="none"', f"hard budget {format_bytes(hard_budget)}, off the scale"))
    if failed:
        legend.append(('stroke="#fcc" stroke-width="8"', f"failed job ({len(failed)})"))

    out = [
        _svg_open(title, width, height),
        f'<text x="10" y="36" fill="#444">{_text(_subtitle(records))}</text>',
        *_failed_slots(frame, records, failed),
        *_axes(frame, ticks),
        *_process_changes(frame, changes),
        *_job_labels(frame, records),
        *(_budget_line(frame, drawn_budget) if drawn_budget else []),
        *_lines(frame, series, settled),
        *_legend(left, top - 12, legend),
        "</svg>\n",
    ]
    return "\n".join(out)


def write_timeline_svg(path: "str | os.PathLike", records: "list[dict]", **kwargs) -> Path:
    """Write :func:`timeline_svg` to *path* atomically (temp file beside it, then replace).

    The temporary is named as every LeanRoute temporary is (with its writer's pid), so a
    batch resumed after a kill mid-write recognises it and removes it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, timeline_svg(records, **kwargs))
    return path
