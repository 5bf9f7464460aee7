"""The circuit breaker: stop taking jobs in a process whose memory stays high (no bpy).

After each job and its cleanup, the settled RSS is compared with the limit (by default the
hard budget). Above it, the process has memory it cannot give back (a leak in Blender, an
add-on, fragmentation), so it stops taking new jobs: in-process mode continues in a fresh
process, a worker hands its remaining jobs back to the coordinator.
"""

from dataclasses import dataclass

from ..memory.units import format_bytes


@dataclass
class CircuitBreaker:
    """Opens once the settled RSS after a job's cleanup is above *limit* bytes (None: never)."""

    limit: "int | None" = None
    reason: str = ""

    @property
    def open(self) -> bool:
        """True once tripped: take no more jobs in this process."""
        return bool(self.reason)

    def check(self, settled_rss: "int | None", job_id: str = "") -> bool:
        """Trip if *settled_rss* is above the limit; returns :attr:`open`."""
        if self.limit is not None and settled_rss is not None and settled_rss > self.limit:
            after = f" after job {job_id!r}" if job_id else ""
            self.reason = (
                f"RSS stays at {format_bytes(settled_rss)}{after} even after cleanup, above "
                f"{format_bytes(self.limit)}"
            )
        return self.open
