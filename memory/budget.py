"""Memory budgets: a soft limit that asks for extra cleanup, a hard one that stops a stage."""

from dataclasses import asdict, dataclass

from .units import format_bytes, parse_size

#: The default hard budget: this share of what the process could use when a stage starts (its
#: RSS plus the memory still available), so a build stops, or refuses to start a stage, well
#: before the machine swaps.
DEFAULT_HARD_FRACTION = 0.8

ADVICE = (
    "Try a smaller area (less padding around the route), fewer layers, a higher hard budget "
    "(MemoryBudget(hard='...') or the add-on preferences), or close other programs."
)


class MemoryBudgetExceeded(MemoryError):  # noqa: N818 - the name the API promises
    """A stage went over its hard memory budget and was stopped (and rolled back).

    ``reached`` is the highest RSS the stage reached (the kernel's exact peak where there is
    one). ``requested`` is set when the stop came from an allocation refused because it
    would have gone over (:meth:`.stage_boundary.Stage.bounded_allocations`): its size.
    """

    def __init__(
        self,
        stage: str,
        limit: int,
        reached: int,
        *,
        how: str = "",
        advice: str = ADVICE,
        requested: "int | None" = None,
    ):
        self.stage = stage
        self.limit = limit
        self.reached = reached
        self.how = how
        self.advice = advice
        self.requested = requested
        source = f" ({how})" if how else ""
        if requested is None or reached > limit:
            what = f"process memory (RSS) reached {format_bytes(reached)}, over"
        else:
            need = f" of {format_bytes(requested)}" if requested else ""
            what = (
                f"process memory (RSS) reached {format_bytes(reached)} and an allocation"
                f"{need} was refused as it would have gone over"
            )
        super().__init__(
            f"stage '{stage}' stopped: {what} the hard budget of {format_bytes(limit)}{source}. "
            f"The stage was rolled back. {advice}"
        )


class MemoryBudgetForecast(MemoryBudgetExceeded):
    """A stage, or one step of it, was not started: its estimated need would not fit.

    Raised before the stage runs (nothing to roll back), or with *step* from inside it,
    before a step that one long C call would make (:meth:`.stage_boundary.Stage.reserve`;
    the stage is rolled back). ``reached`` is the RSS it would have reached, ``rss`` the RSS
    when it was refused.
    """

    def __init__(
        self,
        stage: str,
        limit: int,
        rss: int,
        forecast: "StageForecast",
        *,
        how: str = "",
        step: "str | None" = None,
        advice: str = ADVICE,
    ):
        self.stage, self.limit, self.how, self.advice = stage, limit, how, advice
        self.rss, self.forecast, self.step, self.requested = rss, forecast, step, forecast.bytes
        self.reached = rss + forecast.bytes
        source = f" ({how})" if how else ""
        start, end = (
            (f"stage '{stage}' not started", "Nothing was built.")
            if step is None
            else (f"stage '{stage}' stopped before {step}", "The stage was rolled back.")
        )
        MemoryError.__init__(
            self,
            f"{start}: it is estimated to need {format_bytes(forecast.bytes)}"
            f" more ({forecast.basis}), which would take process memory (RSS) from "
            f"{format_bytes(rss)} to {format_bytes(self.reached)}, over the hard budget of "
            f"{format_bytes(limit)}{source}. {end} {advice}",
        )


@dataclass(frozen=True)
class StageForecast:
    """How much a stage is expected to raise RSS above its start (bytes), and from what."""

    bytes: int
    #: What the estimate was made from, for messages: "98,000 buildings", "a 61 MB file".
    basis: str


class BudgetInterrupt(BaseException):
    """Raised asynchronously into a stage's thread by the sampler; converted at the boundary.

    A BaseException, like KeyboardInterrupt, so that ``except Exception`` in user code
    does not swallow the stop.
    """


@dataclass(frozen=True)
class MemoryBudget:
    """Limits on the process's RSS during a stage.

    *soft* and *hard* are sizes ("1.5 GB", bytes). *hard_fraction* limits RSS to that
    fraction of what the process could use when the stage starts (its RSS plus the memory
    the machine, or its container, still has available). When both hard limits are set,
    the lower applies.
    """

    soft: "str | int | None" = None
    hard: "str | int | None" = None
    hard_fraction: "float | None" = None

    def __post_init__(self):
        for value in (self.soft, self.hard):
            if value is not None:
                parse_size(value)
        if self.hard_fraction is not None and not 0 < self.hard_fraction <= 1:
            raise ValueError(
                f"hard_fraction must be in (0, 1], not {self.hard_fraction!r}: "
                "it is a share of the memory available when the stage starts"
            )

    @classmethod
    def default(cls, soft: "str | int | None" = None) -> "MemoryBudget":
        """The budget a build gets when none is given: :data:`DEFAULT_HARD_FRACTION`."""
        return cls(soft=soft, hard_fraction=DEFAULT_HARD_FRACTION)

    @property
    def enabled(self) -> bool:
        """True when any limit is set."""
        return any(v is not None for v in (self.soft, self.hard, self.hard_fraction))

    def resolve(self, rss: "int | None", available: "int | None") -> "ResolvedBudget":
        """Turn the limits into byte figures for a stage starting at *rss*."""
        soft = parse_size(self.soft) if self.soft is not None else None
        hard, how = None, ""
        if self.hard is not None:
            hard = parse_size(self.hard)
            how = f"hard={self.hard!r}" if isinstance(self.hard, str) else "hard budget"
        if self.hard_fraction is not None and rss is not None and available is not None:
            by_fraction = int((rss + available) * self.hard_fraction)
            if hard is None or by_fraction < hard:
                hard = by_fraction
                how = f"{self.hard_fraction:.0%} of the memory available at the stage's start"
        return ResolvedBudget(soft, hard, how)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class ResolvedBudget:
    """A budget in bytes for one stage."""

    soft: "int | None"
    hard: "int | None"
    how: str = ""

    def refuse_forecast(
        self,
        stage: str,
        rss: "int | None",
        forecast: "StageForecast | None",
        *,
        step: "str | None" = None,
        advice: str = ADVICE,
    ) -> None:
        """Raise :class:`MemoryBudgetForecast` if *forecast* would take *rss* over *hard*."""
        hard = self.hard
        if hard is None or rss is None or forecast is None:
            return
        if rss + forecast.bytes > hard:
            raise MemoryBudgetForecast(
                stage, hard, rss, forecast, how=self.how, step=step, advice=advice
            )
