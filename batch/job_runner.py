"""Run batch jobs one after another in this Blender process, with hygiene between them.

Each job is a :class:`~..route.build.SceneBuild` (stage boundaries, budgets, rollback on
failure). Between jobs the finished build is removed from the scene and, with hygiene on,
the process is settled: gc, LeanRoute's leftover orphans removed, stage caches cleared,
freed heap returned to the OS. Without hygiene (``--no-hygiene``, the baseline), only the
build's objects are deleted, the way a plain script would, and nothing is collected.
"""

import os
import secrets
import time
from pathlib import Path

import bpy

from ..memory import process_memory
from ..memory.blender_stats import blender_allocated_bytes
from ..memory.budget import MemoryBudget
from ..memory.cleanup_policy import CleanupPolicy
from ..memory.idle_clean import clean_now
from ..route.build import SceneBuild
from ..route.build_collection import remove_build, remove_build_objects
from ..route.errors import describe
from .job_record import finish_record, job_metrics, new_record
from .output_folder import make_output_folder


def settled_figures() -> dict:
    """RSS and Blender's allocator now."""
    return {"rss": process_memory.rss_bytes(), "blender": blender_allocated_bytes()}


def new_run_token() -> str:
    """An id of this process's run, unique even across ``exec`` (same pid) within a second."""
    return f"{os.getpid()}-{time.time_ns()}-{secrets.token_hex(4)}"


class JobRunner:
    """Runs jobs in this process; one runner per process, jobs numbered in run order."""

    def __init__(
        self,
        *,
        hygiene: bool = True,
        budget: "MemoryBudget | None" = None,
        reports_dir: "Path | None" = None,
        sampler_interval: float = 0.01,
        run_token: str = "",
    ):
        self.hygiene = hygiene
        self.policy = CleanupPolicy() if hygiene else CleanupPolicy.off()
        self.budget = budget
        self.reports_dir = Path(reports_dir) if reports_dir is not None else None
        self.sampler_interval = sampler_interval
        self.process = {"pid": os.getpid(), "run": run_token or new_run_token()}
        self.sequence = 0

    def run(self, job, *, attempt: int = 1, started_at: "float | None" = None, on_stage=None):
        """Build *job*, clear it from the scene, settle; returns the job's finished record.

        Never raises for a job's own failure (bad input, over budget): the record says
        ``failed`` with the reason, and the scene is as it was before the job.
        """
        started_at = time.time() if started_at is None else started_at
        record = new_record(
            job,
            attempt=attempt,
            started_at=started_at,
            process={**self.process, "sequence": self.sequence},
        )
        self.sequence += 1
        before = settled_figures()
        settings = job.settings
        if self.reports_dir is not None:
            settings = settings.but(report=self.reports_dir / f"{job.id}.json")
        build = SceneBuild(
            settings,
            policy=self.policy,
            budget=self.budget,
            on_stage=on_stage,
            sampler_interval=self.sampler_interval,
        )
        clock = time.perf_counter()
        status, reason = "done", ""
        try:
            # An output in a subfolder of --out: the folder is the batch's to make. A file
            # in the way fails this job alone, with a reason that names it.
            make_output_folder(settings.out)
            result = build.run()
            collection = result.collection
        except Exception as error:  # the job's failure is recorded; the batch goes on
            status, reason, collection = "failed", describe(error), None
        seconds = time.perf_counter() - clock
        report = build.pipeline.report.to_dict()
        report.pop("rss_timeline", None)
        orphans = self.clear(collection)
        if status == "done":
            # Saved: its frame range, fps and camera leave with it, as a failed job's do.
            build.state.restore_scene_settings()
        metrics = job_metrics(
            report, seconds=seconds, before=before, after=settled_figures(), orphans_between=orphans
        )
        return finish_record(
            record, status=status, reason=reason, finished_at=time.time(), metrics=metrics
        )

    def clear(self, collection_name: "str | None") -> int:
        """Remove a finished build from the scene and settle; returns leftover orphans removed."""
        collection = bpy.data.collections.get(collection_name) if collection_name else None
        if collection is not None:
            # The user's data in the opened file (objects put in the build, links) survives.
            remove = remove_build if self.hygiene else remove_build_objects
            remove(collection, scene=bpy.context.scene)
        if not self.hygiene:
            return 0
        # The same clean as the idle timer's: gc, LeanRoute's orphans, stage caches, trim.
        result = clean_now("batch", "between jobs")
        if result.error:
            raise RuntimeError(f"the cleanup between jobs failed: {result.error}")
        return sum(result.orphans_removed.values())
