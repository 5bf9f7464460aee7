# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a staged job is, as a fraction and a status line (plain Python)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class StageProgress:
    """Stage *index* (0-based) of *total*, called *stage*, of the job *job*."""

    job: str
    stage: str
    index: int
    total: int

    @property
    def fraction(self) -> float:
        """Share of the stages already done when this one starts, 0 to 1."""
        return self.index / self.total if self.total else 1.0

    def status_line(self, *, cancel_hint: str = "Esc to cancel") -> str:
        """``LeanRoute: build sample.osm: roads (4/9), Esc to cancel``."""
        hint = f", {cancel_hint}" if cancel_hint else ""
        return f"LeanRoute: {self.job}: {self.stage} ({self.index + 1}/{self.total}){hint}"
