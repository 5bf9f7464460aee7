"""``--shard I/N``: a deterministic part of a batch, so a farm can spread it over machines.

Shard I of N (1-based, as in "shard 2 of 4") takes the jobs at positions I, I+N, I+2N, …
of the jobs file. Every shard reads the same file, so the N shards together run every job
exactly once, with no coordination between machines; round robin keeps the shards within
one job of each other in size. Plain Python, no bpy.
"""

from dataclasses import dataclass

from ..route.errors import SettingsError


@dataclass(frozen=True)
class Shard:
    """Shard *index* (1-based) of *count*."""

    index: int = 1
    count: int = 1

    def __post_init__(self):
        if self.count < 1:
            raise SettingsError(
                "--shard", f"the number of shards must be 1 or more, not {self.count}"
            )
        if not 1 <= self.index <= self.count:
            raise SettingsError(
                "--shard", f"shard {self.index} of {self.count}: I must be from 1 to {self.count}"
            )

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """``"2/4"`` -> Shard(2, 4)."""
        index, slash, count = str(text).strip().partition("/")
        try:
            if not slash:
                raise ValueError
            numbers = int(index), int(count)
        except ValueError:
            raise SettingsError(
                "--shard", f"{text!r} is not I/N, e.g. 2/4 for the second of four shards"
            ) from None
        return cls(*numbers)

    @property
    def whole(self) -> bool:
        """True for 1/1: the whole batch."""
        return self.count == 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def suffix(self) -> str:
        """A file-name suffix that keeps shards' state files apart ("" for the whole batch)."""
        return "" if self.whole else f"-shard-{self.index}-of-{self.count}"

    def select(self, jobs: list) -> list:
        """The jobs of this shard, in file order."""
        return [job for position, job in enumerate(jobs) if position % self.count == self.index - 1]
