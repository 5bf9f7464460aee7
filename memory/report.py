"""What a stage and a pipeline did to memory, as plain JSON-serialisable dataclasses.

Sizes are bytes (int) or None when the figure is not available on this platform or was
not asked for (the Python heap needs tracemalloc).
"""

import json
from dataclasses import asdict, dataclass, field, fields

METRICS = ("rss", "uss", "blender", "python_heap", "undo", "live_bmeshes")


@dataclass
class Snapshot:
    """Memory figures at one moment."""

    rss: "int | None" = None
    uss: "int | None" = None
    blender: "int | None" = None  # Blender's allocator (guardedalloc), from scene.statistics()
    python_heap: "int | None" = None  # tracemalloc's traced size, when tracing
    undo: "int | None" = None  # Blender does not expose undo memory to Python: None
    live_bmeshes: int = 0
    datablocks: dict[str, int] = field(default_factory=dict)
    time: float = 0.0


@dataclass
class Peak:
    """Highest figures during a stage (None where the figure cannot be sampled)."""

    rss: "int | None" = None
    rss_exact: bool = False  # True: kernel high-water mark; False: sampled only
    uss: "int | None" = None  # not sampled: reading USS costs milliseconds
    blender: "int | None" = None  # highest at the stage's checkpoints (main thread only)
    python_heap: "int | None" = None  # tracemalloc's exact peak
    live_bmeshes: int = 0


@dataclass
class BMeshLeak:
    """A BMesh still alive at its stage's end: freed by the sweeper and reported."""

    site: str
    stage: str
    verts: int = 0
    edges: int = 0
    faces: int = 0


@dataclass
class Cleanup:
    """What the cleanup after a stage did."""

    gc_collected: int = 0
    orphans_removed: dict[str, int] = field(default_factory=dict)
    orphans_purged: int = 0
    caches_cleared: list[str] = field(default_factory=list)
    heap_trim: str = ""
    heap_trim_supported: bool = False
    rss_freed: int = 0
    blender_freed: int = 0
    soft_limit_cleanups: int = 0
    seconds: float = 0.0

    @property
    def orphans_total(self) -> int:
        """Orphan data-blocks removed, all types."""
        return sum(self.orphans_removed.values())


@dataclass
class Rollback:
    """What undoing a failed or stopped stage did."""

    removed: dict[str, int] = field(default_factory=dict)
    callbacks_run: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class BMeshCounts:
    """BMeshes of one stage: created, freed by their owner, released, swept as leaks."""

    created: int = 0
    freed: int = 0
    released: int = 0  # last reference dropped without free(): reclaimed by the ledger
    swept: int = 0
    untracked_swept: int = 0
    peak_live: int = 0


@dataclass
class StageReport:
    """One stage: figures before, at peak and after, plus what cleanup did."""

    name: str
    status: str = "running"  # ok | failed | stopped
    before: Snapshot = field(default_factory=Snapshot)
    peak: Peak = field(default_factory=Peak)
    after: Snapshot = field(default_factory=Snapshot)
    wall_seconds: float = 0.0
    boundary_seconds: float = 0.0  # time spent by the boundary itself (measure + cleanup)
    cleanup: Cleanup = field(default_factory=Cleanup)
    bmeshes: BMeshCounts = field(default_factory=BMeshCounts)
    leaks: list[BMeshLeak] = field(default_factory=list)
    created_datablocks: dict[str, int] = field(default_factory=dict)
    rollback: "Rollback | None" = None
    error: "str | None" = None
    budget_soft: "int | None" = None
    budget_hard: "int | None" = None
    #: The RSS growth the stage was expected to need (bytes), and what that was estimated from.
    forecast: "int | None" = None
    forecast_basis: str = ""
    gc_policy: str = "default"

    def delta(self, metric: str) -> "int | None":
        """After minus before for *metric* (None if either is missing)."""
        before, after = getattr(self.before, metric), getattr(self.after, metric)
        return None if before is None or after is None else after - before


@dataclass
class PipelineReport:
    """Every stage of one pipeline run, with where it ran."""

    name: str
    stages: list[StageReport] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    started: float = 0.0
    wall_seconds: float = 0.0
    rss_timeline: list[tuple[float, int]] = field(default_factory=list)
    #: What the pipeline produced (counts, lengths, paths), for reports; JSON-ready.
    results: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every stage finished."""
        return all(stage.status == "ok" for stage in self.stages)

    def to_dict(self) -> dict:
        """A plain dict (JSON-ready)."""
        return asdict(self)

    def to_json(self, **kwargs) -> str:
        """JSON text."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict) -> "PipelineReport":
        """Read back what :meth:`to_dict` wrote."""
        return _build(cls, data)

    def table(self, **kwargs) -> str:
        """The compact per-stage text table (see :mod:`.report_table`)."""
        from .report_table import format_table

        return format_table(self, **kwargs)


_NESTED = {
    "before": Snapshot,
    "after": Snapshot,
    "peak": Peak,
    "cleanup": Cleanup,
    "bmeshes": BMeshCounts,
    "rollback": Rollback,
}


def _build(cls, data: dict):
    known = {f.name for f in fields(cls)}
    values = {}
    for key, raw in data.items():
        if key not in known:
            continue  # written by a newer version: ignore, do not fail
        value = raw
        if key in _NESTED and isinstance(raw, dict):
            value = _build(_NESTED[key], raw)
        elif key == "stages":
            value = [_build(StageReport, item) for item in raw]
        elif key == "leaks":
            value = [_build(BMeshLeak, item) for item in raw]
        elif key == "rss_timeline":
            value = [tuple(point) for point in raw]
        values[key] = value
    return cls(**values)
