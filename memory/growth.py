"""Growth per run: least-squares fit and the flat/growing verdict of a leak check (no bpy)."""

import json
from dataclasses import asdict, dataclass, field
from itertools import pairwise

from .units import format_bytes, parse_size

DEFAULT_TOLERANCE = {
    "rss": parse_size("1 MB"),
    "blender": parse_size("256 KB"),
    "live_bmeshes": 0.5,
    "datablocks": 0.5,
}


def fitted_slope(values: "list[float]") -> float:
    """Least-squares slope of *values* against their index (growth per run)."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    sxx = sum((i - mean_x) ** 2 for i in range(n))
    sxy = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    return sxy / sxx


@dataclass
class AllocationSite:
    """A Python allocation site whose traced memory grew during the runs."""

    site: str
    size_diff: int
    count_diff: int


@dataclass
class LeakCheckReport:
    """Per-run figures of a leak check, the fitted growth per run and the verdict."""

    runs: int
    rss: list[int] = field(default_factory=list)
    blender: list[int] = field(default_factory=list)
    live_bmeshes: list[int] = field(default_factory=list)
    datablocks: list[int] = field(default_factory=list)
    datablocks_by_type: dict[str, list[int]] = field(default_factory=dict)
    growth: dict[str, float] = field(default_factory=dict)
    tolerance: dict[str, float] = field(default_factory=dict)
    verdict: str = "flat"
    reasons: list[str] = field(default_factory=list)
    top_python_growth: list[AllocationSite] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def flat(self) -> bool:
        """True when nothing grew beyond its tolerance."""
        return self.verdict == "flat"

    def add_reading(
        self,
        rss: "int | None",
        blender: "int | None" = None,
        live_bmeshes: int = 0,
        datablocks: "dict[str, int] | None" = None,
    ) -> None:
        """Append one settled reading; without *datablocks* (no Blender) only RSS is kept.

        Per-type data-block series stay aligned with the readings: a type first seen late
        starts with zeros.
        """
        self.rss.append(rss or 0)
        if datablocks is None:
            return
        self.blender.append(blender or 0)
        self.live_bmeshes.append(live_bmeshes)
        self.datablocks.append(sum(datablocks.values()))
        for name in set(self.datablocks_by_type) | set(datablocks):
            series = self.datablocks_by_type.setdefault(name, [0] * (len(self.rss) - 1))
            series.append(datablocks.get(name, 0))

    def deltas(self, metric: str) -> list[int]:
        """Change of *metric* in each run (values[i+1] - values[i]); index 0 is the baseline."""
        values = getattr(self, metric)
        return [b - a for a, b in pairwise(values)]

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)

    def to_json(self, **kwargs) -> str:
        """JSON text."""
        return json.dumps(self.to_dict(), **kwargs)

    def summary(self) -> str:
        """A few lines for the terminal or a test failure."""
        lines = [
            f"leak check over {self.runs} runs: {self.verdict.upper()}",
            f"  RSS growth per run:      {format_bytes(self.growth.get('rss'), signed=True)}",
            f"  Blender allocator/run:   {format_bytes(self.growth.get('blender'), signed=True)}",
            f"  data-blocks per run:     {self.growth.get('datablocks', 0):+.2f}",
            f"  live BMeshes per run:    {self.growth.get('live_bmeshes', 0):+.2f}",
        ]
        lines.extend(f"  growing: {reason}" for reason in self.reasons)
        lines.extend(
            f"  python: {format_bytes(s.size_diff, signed=True)} ({s.count_diff:+d} blocks) "
            f"at {s.site}"
            for s in self.top_python_growth
        )
        return "\n".join(lines)


def judge(report: LeakCheckReport, tolerance: "dict[str, float] | None" = None) -> None:
    """Fit growth per run for every metric and set the verdict (in place)."""
    limits = dict(DEFAULT_TOLERANCE, **(tolerance or {}))
    report.tolerance = limits
    report.growth = {}
    report.reasons = []
    for metric in ("rss", "blender", "live_bmeshes", "datablocks"):
        values = getattr(report, metric)
        if len(values) < 2:
            continue
        slope = fitted_slope(values)
        report.growth[metric] = slope
        if slope > limits[metric]:
            unit = format_bytes if metric in ("rss", "blender") else (lambda v: f"{v:.2f}")
            report.reasons.append(
                f"{metric} grows {unit(slope)} per run (tolerance {unit(limits[metric])})"
            )
    for name, values in report.datablocks_by_type.items():
        slope = fitted_slope(values)
        if slope > limits["datablocks"]:
            report.reasons.append(f"bpy.data.{name} grows by {slope:.2f} per run")
    report.verdict = "growing" if report.reasons else "flat"
