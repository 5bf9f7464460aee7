"""Run a list of jobs in this process and report each step as an event.

The coordinator runs it directly in in-process mode; a worker process runs it with a sink
that prints events for its coordinator. Events: ``job_started``, ``stage``, ``job_done`` /
``job_failed`` (with the record), ``breaker_open``.
"""

import time
from collections.abc import Callable

from ..route.kill_points import reached
from .circuit_breaker import CircuitBreaker

#: How the loop ended.
FINISHED, FAILED_FAST, BREAKER_OPEN = "finished", "failed-fast", "breaker-open"


def run_jobs(
    jobs: list,
    runner,
    sink: Callable[..., None],
    *,
    breaker: "CircuitBreaker | None" = None,
    fail_fast: bool = False,
    attempts: "dict[str, int] | None" = None,
) -> str:
    """Run *jobs* with *runner* (a :class:`.job_runner.JobRunner`) until done or stopped.

    ``sink(event, **fields)`` receives every event. The loop stops early after a failed
    job with *fail_fast*, or when *breaker* opens (memory stays above its limit).
    """
    breaker = breaker or CircuitBreaker()
    for job in jobs:
        attempt = (attempts or {}).get(job.id, 1)
        started_at = time.time()
        sink("job_started", id=job.id, attempt=attempt, started_at=started_at)

        def on_stage(name, index, count, job_id=job.id):
            sink("stage", id=job_id, stage=name, index=index, count=count)
            reached("stage", name)

        record = runner.run(job, attempt=attempt, started_at=started_at, on_stage=on_stage)
        reached("job-finished", job.id)
        sink(f"job_{record['status']}", id=job.id, record=record)
        if fail_fast and record["status"] == "failed":
            return FAILED_FAST
        if breaker.check(record["metrics"].get("rss", {}).get("after"), job.id):
            sink("breaker_open", id=job.id, reason=breaker.reason, limit=breaker.limit)
            return BREAKER_OPEN
    return FINISHED
