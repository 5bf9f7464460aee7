"""The coordinator of a batch: what runs where, the checkpoint, the event log, the progress bar.

Modes:

- in-process (default): this process runs the jobs one after another, with hygiene between
  them. When the circuit breaker opens (memory stays above its limit after cleanup), the
  process replaces itself by a fresh one, which resumes from the checkpoint;
- ``isolate``: each job runs in a fresh Blender worker process;
- ``recycle``: a fresh worker process every N jobs.

With workers, up to ``workers`` run at once and a new one is admitted only while the
machine's available memory covers the largest per-job peak seen so far
(:mod:`.admission`). A worker whose breaker opens hands its untouched jobs back; one that
dies takes only its current job with it (recorded as failed with the exit status).

Plain Python: the in-process runner (bpy) is made by the ``runner_factory`` passed in.
"""

import contextlib
import os
import queue
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..memory.process_memory import available_bytes
from ..memory.units import format_bytes
from ..progress.checkpoint import Checkpoint, output_landed
from ..progress.event_log import EventLog
from ..progress.own_files import open_own
from ..progress.terminal_bar import TerminalBar
from ..route.errors import describe
from ..route.kill_points import reached
from .admission import Admission
from .batch_lock import batch_lock
from .batch_paths import BatchPaths
from .batch_report import write_batch_report
from .circuit_breaker import CircuitBreaker
from .job_claims import Claim, JobClaims
from .job_evidence import settled_elsewhere
from .job_record import finish_record, new_record
from .resume import (
    job_report_path,
    rebuild_records,
    sweep_temporaries,
    write_missing_reports,
)
from .sharding import Shard
from .worker_loop import BREAKER_OPEN, FAILED_FAST, run_jobs
from .worker_process import WorkerProcess, describe_exit

#: Workers that end without starting a job, in a row, before the batch gives up.
MAX_DEAD_STARTS = 3
#: Seconds between tries to claim jobs that another process (a shard) is running.
CLAIM_POLL = 0.2


@dataclass
class BatchOptions:
    """How to run a batch (from the command line)."""

    jobs_file: Path
    out_dir: Path
    mode: str = "in-process"  # in-process | isolate | recycle
    recycle_every: int = 1
    workers: int = 1
    hygiene: bool = True
    fail_fast: bool = False
    retry_failed: bool = False
    shard: Shard = field(default_factory=Shard)
    restart_above: "int | None" = None
    hard_budget: "int | None" = None
    compare_to: "Path | None" = None
    quiet: bool = False
    restarts: int = 0  # how many times the in-process run has restarted itself


@dataclass
class BatchOutcome:
    """How a batch run ended."""

    total: int
    done: int
    failed: int
    stopped: str = ""  # why the run stopped before the end ("" when it got through)
    restart: bool = False  # in-process: continue in a fresh process
    report: "Path | None" = None
    chart: "Path | None" = None
    lines: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every job is done, 1 otherwise."""
        return 0 if self.done == self.total and not self.stopped else 1


class Coordinator:
    """Runs one batch (or shard) to its end; see the module docstring."""

    def __init__(
        self,
        options: BatchOptions,
        jobs: list,
        *,
        runner_factory: "Callable[[], object] | None" = None,
        worker_command: "Callable[[list[str]], list[str]] | None" = None,
        stream=None,
    ):
        self.options = options
        self.all_jobs = list(jobs)
        self.jobs = options.shard.select(jobs)
        self.by_id = {job.id: job for job in self.jobs}
        self.paths = BatchPaths(options.out_dir, options.shard)
        self.runner_factory = runner_factory
        self.worker_command = worker_command
        self.stream = stream if stream is not None else sys.stderr
        self.failures = 0
        self.admission = Admission(max(options.workers, 1))
        self.checkpoint: Checkpoint | None = None
        self.log: EventLog | None = None
        self.bar: TerminalBar | None = None
        self._throttled = False
        self._workers_started = 0
        self.claims = JobClaims(self.paths.claims, by=self._who())
        self._held: dict[str, Claim] = {}  # jobs this run has claimed and not yet settled
        self._waiting_for: set[str] = set()  # jobs another process runs (noted once each)
        self._started = time.time()

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> BatchOutcome:
        """Run the jobs left (resuming from the checkpoint); returns the outcome."""
        self.paths.create()
        what = "this batch" if self.options.shard.whole else f"shard {self.options.shard}"
        with batch_lock(self.paths.lock, f"{what} of {self.options.out_dir}"):
            return self._run()

    def _run(self) -> BatchOutcome:
        options = self.options
        self.log = EventLog(self.paths.events)
        stopped, restart, plan = "", False, None
        try:
            plan = self._resume()
            if options.mode == "in-process":
                with output_to(self.paths.logs / f"in-process{options.shard.suffix()}.log"):
                    stopped, restart = self._run_in_process(plan.pending)
            else:
                stopped = self._run_workers(plan.pending)
        except KeyboardInterrupt:
            stopped = "interrupted (Ctrl+C)"
            raise
        except BaseException as error:  # the log's last record says why the batch stopped
            stopped = describe(error)
            raise
        finally:
            for claim in self._held.values():
                claim.release()
            self._held.clear()
            if self.bar is not None:
                self.bar.close()
            if not restart:
                self.log.write("batch_stopped" if stopped else "batch_finished", reason=stopped)
            self.log.close()
        return self._finish(plan, stopped, restart)

    def _resume(self):
        """Open the checkpoint, repair what a kill left, and plan the run; returns the plan."""
        options = self.options
        self.checkpoint = Checkpoint.open(
            self.paths.checkpoint,
            {
                "jobs_file": str(options.jobs_file),
                "out_dir": str(Path(options.out_dir).resolve()),
                "shard": str(options.shard),
            },
        )
        if self.checkpoint.moved_aside is not None:
            self._rebuild_checkpoint()
        plan = self.checkpoint.plan(self.jobs, retry_failed=options.retry_failed)
        self.checkpoint.start_run(mode=options.mode, hygiene=options.hygiene)
        removed = sweep_temporaries(self.paths, self.all_jobs)
        done = [self.by_id[job_id] for job_id in plan.done]
        reports = write_missing_reports(self.paths, done, self.checkpoint.jobs)
        self.bar = TerminalBar(len(self.jobs), stream=self.stream) if not options.quiet else None
        self.log.write(
            "batch_started",
            jobs=len(self.jobs),
            pending=len(plan.pending),
            done=len(plan.done),
            failed=len(plan.failed),
            recovered=plan.recovered,
            rerun=plan.rerun,
            mode=options.mode,
            hygiene=options.hygiene,
            shard=str(options.shard),
            restarts=options.restarts,
            temporaries_removed=len(removed),
            reports_written=reports,
        )
        if self.bar is not None and plan.finished:
            self.bar.skipped(plan.finished)
        for job_id in plan.recovered:
            self._note(f"{job_id}: finished before the interruption (output in place): done")
        return plan

    def _rebuild_checkpoint(self) -> None:
        """After a damaged checkpoint was moved aside: records from the complete outputs."""
        moved = self.checkpoint.moved_aside
        records = rebuild_records(self.jobs, self.paths, self.claims)
        self.checkpoint.restore(records)
        self.log.write(
            "checkpoint_rebuilt",
            reason=moved.reason,
            moved_to=str(moved.path),
            recovered=[record["id"] for record in records],
            fsync=True,
        )
        # Said even with --quiet: the user's file was renamed.
        print(
            f"leanroute: warning: {self.paths.checkpoint}: {moved.reason}; moved it to "
            f"{moved.path} and rebuilt it from the outputs: {len(records)} of "
            f"{len(self.jobs)} jobs verifiably done",
            file=self.stream,
            flush=True,
        )

    def _run_in_process(self, pending: list) -> tuple[str, bool]:
        runner = None
        breaker = CircuitBreaker(self.options.restart_above)
        attempts = self._attempts(pending)
        waiting = deque(pending)
        while waiting:
            ready = self._claim_jobs(waiting, 1)
            if not ready:  # every job left is running in another process: wait for them
                time.sleep(CLAIM_POLL)
                continue
            runner = runner or self.runner_factory()
            ended = run_jobs(
                [self.by_id[ready[0]]],
                runner,
                self._on_event,
                breaker=breaker,
                fail_fast=self.options.fail_fast,
                attempts=attempts,
            )
            if ended == FAILED_FAST:
                return "--fail-fast: a job failed", False
            if ended == BREAKER_OPEN and waiting:
                self._note(f"circuit breaker: {breaker.reason}; continuing in a fresh process")
                self.log.write("restart", reason=breaker.reason, left=len(waiting), fsync=True)
                return "", True
        return "", False

    # -- claims: one process at a time per job, across batches sharing --out ---------------

    def _who(self) -> str:
        what = "batch" if self.options.shard.whole else f"shard {self.options.shard}"
        return f"{what} of {Path(self.options.jobs_file).name}"

    def _claim_jobs(self, waiting: deque, count: int) -> list[str]:
        """Claim up to *count* jobs from *waiting* (removing them); returns their ids.

        A job another process runs now stays in *waiting*; one that another run has settled
        meanwhile is recorded as it ended there and leaves *waiting* without running.
        """
        ids = []
        for job in list(waiting):
            if len(ids) == count:
                break
            claim = self.claims.claim(job.id)
            if claim is None:
                if job.id not in self._waiting_for:
                    self._waiting_for.add(job.id)
                    holder = self.claims.holder(job.id)
                    self._note(f"{job.id}: {holder} is running it; waiting for it")
                    self.log.write("job_waiting", id=job.id, holder=holder)
                continue
            waiting.remove(job)
            settled = settled_elsewhere(
                job,
                claim.history(),
                job_report_path(self.paths, job),
                since=self._started,
                retry_failed=self.options.retry_failed,
            )
            if settled is not None:
                claim.release()
                self._adopt(job, settled)
                continue
            claim.note("running", fingerprint=job.fingerprint, started_at=round(time.time(), 3))
            self._held[job.id] = claim
            reached("claimed", job.id)
            ids.append(job.id)
        return ids

    def _adopt(self, job, settled: dict) -> None:
        """Record *job* as another run settled it (done, or failed), without running it."""
        previous = self.checkpoint.jobs.get(job.id) or {}
        now = time.time()
        record = new_record(
            job, attempt=max(previous.get("attempts", 0), 1), started_at=now, process={}
        )
        record = finish_record(
            record, status=settled["status"], reason=settled["reason"], finished_at=now
        )
        record.update(settled_by=settled["by"], evidence=settled["how"])
        self.checkpoint.record(record)
        self.log.write(
            "job_adopted",
            id=job.id,
            status=settled["status"],
            by=settled["by"],
            reason=settled["reason"],
            fsync=True,
        )
        self._note(f"{job.id}: {settled['status']} in {settled['by']}'s run; not run again")
        if self.bar is not None:
            self.bar.skipped(1)

    def _settle_claim(self, job_id: str, record: dict) -> None:
        """Note how this run ended a claimed job, and let other processes have it."""
        claim = self._held.pop(job_id, None)
        if claim is None:
            return
        claim.note(
            record["status"],
            fingerprint=record.get("fingerprint"),
            started_at=record.get("started_at"),
            finished_at=record.get("finished_at"),
            reason=record.get("reason", ""),
            out_bytes=record.get("out_bytes"),
        )
        claim.release()

    def _unclaim(self, job_ids: list[str]) -> None:
        """Let go of claimed jobs that were never started (given back by a worker)."""
        for job_id in job_ids:
            claim = self._held.pop(job_id, None)
            if claim is not None:
                claim.release()

    def _run_workers(self, pending: list) -> str:
        options = self.options
        chunk = 1 if options.mode == "isolate" else max(options.recycle_every, 1)
        waiting = deque(pending)
        attempts = self._attempts(pending)
        events: queue.Queue = queue.Queue()
        running: dict[int, WorkerProcess] = {}
        dead_starts = 0
        stopped = ""
        while (waiting and not stopped) or running:
            if not stopped:
                self._admit(waiting, running, chunk, attempts, events)
            try:
                worker, event = events.get(timeout=0.25)
            except queue.Empty:
                continue
            if event["event"] != "worker_exit":
                worker.note(event)
                self._on_event(event.pop("event"), **event)
                if options.fail_fast and self.failures and not stopped:
                    stopped = "--fail-fast: a job failed"
                    for other in running.values():
                        other.kill()
                continue
            running.pop(worker.number, None)
            dead_starts = 0 if worker.started else dead_starts + 1
            self._worker_ended(worker, event["code"], waiting, stopped)
            if dead_starts >= MAX_DEAD_STARTS and not stopped:
                stopped = (
                    f"{MAX_DEAD_STARTS} worker processes in a row ended before starting a job; "
                    f"see {worker.log_path}"
                )
        return stopped

    def _admit(self, waiting: deque, running: dict, chunk: int, attempts, events) -> None:
        """Start workers while there are jobs, free slots and memory for one more."""
        while waiting and len(running) < self.options.workers:
            decision = self.admission.decide(
                [worker.rss() for worker in running.values()], available_bytes()
            )
            if not decision.admit:
                if not self._throttled:
                    self.log.write("throttled", reason=decision.reason)
                    self._throttled = True
                if self.bar is not None:
                    self.bar.waiting(f"waiting for memory: {decision.reason}")
                return
            if self._throttled:
                self._throttled = False
                if self.bar is not None:
                    self.bar.waiting(None)
            ids = self._claim_jobs(waiting, chunk)
            if not ids:  # the jobs left are running elsewhere (or were settled there)
                return
            self._workers_started += 1
            worker = self._start_worker(self._workers_started, ids, attempts, events)
            running[worker.number] = worker

    def _start_worker(self, number: int, ids: list[str], attempts, events) -> WorkerProcess:
        arguments = ["--worker-jobs", ",".join(ids), "--worker-parent", str(os.getpid())]
        retries = [f"{job_id}={attempts[job_id]}" for job_id in ids if attempts[job_id] > 1]
        if retries:
            arguments += ["--worker-attempts", ",".join(retries)]
        command = self.worker_command(arguments)
        log_path = self.paths.logs / f"worker-{number:04d}{self.options.shard.suffix()}.log"
        worker = WorkerProcess(number, command, ids, log_path, events)
        self.log.write("worker_started", worker=number, pid=worker.pid, jobs=ids)
        return worker

    def _worker_ended(self, worker: WorkerProcess, code: int, waiting: deque, stopped: str) -> None:
        how = describe_exit(code)
        removed = sweep_temporaries(self.paths, [self.by_id[job_id] for job_id in worker.job_ids])
        self.log.write(
            "worker_exit",
            worker=worker.number,
            pid=worker.pid,
            status=how,
            temporaries_removed=len(removed),  # a killed worker's half-written files
        )
        current = worker.current
        if current is not None and not stopped:
            # The worker died in the middle of a job: that job failed; the others go on.
            job = self.by_id[current]
            previous = self.checkpoint.jobs.get(current, {})
            record = previous if previous.get("status") == "running" else None
            record = record or new_record(
                job, attempt=1, started_at=time.time(), process={"pid": worker.pid}
            )
            if output_landed(job.out, record["started_at"]):
                # Killed after its output was renamed into place: the job had finished.
                record = finish_record(record, status="done", finished_at=time.time())
                self._on_event("job_done", id=current, record={**record, "recovered": True})
            else:
                verb = "was" if how.startswith("killed") else "ended with"
                reason = f"the worker process {verb} {how} during this job; log: {worker.log_path}"
                record = finish_record(
                    record, status="failed", reason=reason, finished_at=time.time()
                )
                self._on_event("job_failed", id=current, record=record)
        untouched = worker.untouched
        self._unclaim(untouched)
        if untouched and not stopped:
            if worker.breaker_open:
                self._note(f"worker {worker.number}: circuit breaker open; a fresh worker goes on")
            waiting.extendleft(self.by_id[job_id] for job_id in reversed(untouched))

    # -- events from the jobs, wherever they run -------------------------------------------

    def _on_event(self, event: str, **fields) -> None:
        job_id = fields.get("id")
        if event == "job_started":
            job = self.by_id[job_id]
            record = new_record(
                job,
                attempt=fields.get("attempt", 1),
                started_at=fields["started_at"],
                process={"pid": fields.get("pid", os.getpid())},
            )
            self.checkpoint.record(record)
            self.log.write(
                "job_started", id=job_id, attempt=record["attempts"], pid=record["process"]["pid"]
            )
            if self.bar is not None:
                self.bar.job_started(job_id, worker=fields.get("pid"))
        elif event == "stage":
            self.log.write(
                "stage",
                id=job_id,
                stage=fields["stage"],
                index=fields["index"],
                count=fields["count"],
            )
            if self.bar is not None:
                self.bar.stage(job_id, fields["stage"], fields["index"], fields["count"])
        elif event in ("job_done", "job_failed"):
            record = fields["record"]
            self.checkpoint.record(record)
            if record.get("recovered"):  # a worker died after its output landed
                write_missing_reports(self.paths, [self.by_id[job_id]], {job_id: record})
            metrics = record.get("metrics") or {}
            self.log.write(
                event,
                id=job_id,
                reason=record.get("reason", ""),
                seconds=metrics.get("seconds"),
                rss=metrics.get("rss"),
                blender=metrics.get("blender"),
                fsync=True,
            )
            self._settle_claim(job_id, record)
            self.admission.observe_peak((metrics.get("rss") or {}).get("peak"))
            if event == "job_failed":
                self.failures += 1
                self._note(f"{job_id} failed: {record.get('reason', '')}")
            if self.bar is not None:
                self.bar.job_finished(job_id, event == "job_done", metrics.get("seconds") or 0.0)
        elif event == "breaker_open":
            self.log.write(
                "breaker_open", id=job_id, reason=fields.get("reason"), limit=fields.get("limit")
            )

    def _note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.note(text)

    def _status(self, job_id: str) -> "str | None":
        return self.checkpoint.jobs.get(job_id, {}).get("status")

    def _attempts(self, jobs: list) -> dict[str, int]:
        # A job that ran before (interrupted, or a retried failure) runs as the next attempt.
        return {job.id: self.checkpoint.jobs.get(job.id, {}).get("attempts", 0) + 1 for job in jobs}

    # -- the end ---------------------------------------------------------------------------

    def _finish(self, plan, stopped: str, restart: bool) -> BatchOutcome:
        records = [record for record in self.checkpoint.records() if record.get("id") in self.by_id]
        done = sum(record["status"] == "done" for record in records)
        failed = sum(record["status"] == "failed" for record in records)
        outcome = BatchOutcome(len(self.jobs), done, failed, stopped=stopped, restart=restart)
        if restart:
            return outcome
        outcome.report, outcome.chart, memory_lines = write_batch_report(
            self.paths, records, self._batch_header(), self.options.compare_to
        )
        counts = f"{done} done, {failed} failed"
        if plan.finished:
            counts += f" ({plan.finished} finished in an earlier run)"
        outcome.lines = [
            f"batch: {len(self.jobs)} jobs{self._shard_text()}: {counts}",
            *([f"batch: stopped: {stopped}"] if stopped else []),
            *memory_lines,
            f"report: {outcome.report}",
            f"chart: {outcome.chart}",
        ]
        for record in records:
            if record["status"] == "failed":
                outcome.lines.append(f"failed: {record['id']}: {record.get('reason', '')}")
        return outcome

    def _shard_text(self) -> str:
        return "" if self.options.shard.whole else f" (shard {self.options.shard})"

    def _batch_header(self) -> dict:
        options = self.options
        runs = self.checkpoint.header.get("runs", [])
        return {
            "jobs_file": str(options.jobs_file),
            "out_dir": str(Path(options.out_dir).resolve()),
            "mode": options.mode,
            "workers": options.workers,
            "recycle_every": options.recycle_every if options.mode == "recycle" else None,
            "hygiene": options.hygiene,
            "shard": str(options.shard),
            "started": runs[0]["started"] if runs else None,
            "finished": round(time.time(), 3),
            "runs": len(runs),
            "hard_budget": options.hard_budget,
            "restart_above": options.restart_above,
            "restart_above_text": format_bytes(options.restart_above)
            if options.restart_above
            else None,
        }


@contextlib.contextmanager
def output_to(path: Path):
    """Send this process's stdout (file descriptor 1) to *path* for a while.

    Blender's C code prints "Info: Saved …" and the like straight to the descriptor; in a
    batch that output belongs in a log, as a worker's does, not across the progress bar.
    """
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout at all
        yield
        return
    with os.fdopen(open_own(path, os.O_WRONLY | os.O_APPEND, "log"), "ab") as log:
        os.dup2(log.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
