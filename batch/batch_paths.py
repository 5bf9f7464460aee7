"""Where a batch keeps its state beside the outputs (no bpy).

``<out>/leanroute-batch/`` holds the checkpoint, the JSON-lines event log, the batch report
and its memory chart (one set per shard, so shards can share an output folder), each
job's memory report under ``jobs/``, worker processes' output under ``logs/`` and the
per-job claims that keep batches sharing the folder from running a job twice under
``claims/``.
"""

from dataclasses import dataclass, field
from pathlib import Path

from ..progress.own_files import problem, symbolic_links
from ..route.errors import LeanRouteError
from .sharding import Shard

STATE_FOLDER = "leanroute-batch"


@dataclass(frozen=True)
class BatchPaths:
    """The files of one batch (or one shard of it) under *out_dir*."""

    out_dir: Path
    shard: Shard = field(default_factory=Shard)

    @property
    def state(self) -> Path:
        """The state folder."""
        return Path(self.out_dir) / STATE_FOLDER

    def _file(self, stem: str, suffix: str) -> Path:
        return self.state / f"{stem}{self.shard.suffix()}{suffix}"

    @property
    def checkpoint(self) -> Path:
        """The checkpoint (JSON)."""
        return self._file("checkpoint", ".json")

    @property
    def events(self) -> Path:
        """The event log (JSON lines)."""
        return self._file("events", ".jsonl")

    @property
    def report(self) -> Path:
        """The batch report (JSON)."""
        return self._file("report", ".json")

    @property
    def chart(self) -> Path:
        """The memory timeline chart (SVG), next to the report."""
        return self._file("memory-timeline", ".svg")

    @property
    def lock(self) -> Path:
        """Held by the run in progress."""
        return self._file("lock", "")

    @property
    def job_reports(self) -> Path:
        """Each job's full memory report, ``<id>.json``."""
        return self.state / "jobs"

    @property
    def logs(self) -> Path:
        """Worker processes' own output."""
        return self.state / "logs"

    @property
    def claims(self) -> Path:
        """Per-job claims, shared by every batch and shard writing to this ``--out``."""
        return self.state / "claims"

    def create(self) -> None:
        """Make the folders; refuse a symbolic link where the batch replaces a file.

        The checkpoint, the reports and the chart are written whole and renamed into place,
        which would follow a link and replace the file it leads to (the OSM input, say).
        """
        for folder in (self.state, self.job_reports, self.logs, self.claims):
            folder.mkdir(parents=True, exist_ok=True)
        links = symbolic_links(self.state, self.job_reports, self.logs, self.claims)
        if links:
            raise LeanRouteError(
                problem(
                    links[0],
                    "own file",
                    "it is a symbolic link (the batch would write into the file it leads to)",
                )
            )
