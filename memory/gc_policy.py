"""How Python's cyclic garbage collector behaves inside heavy stages.

Building a city creates millions of small containers (tuples, lists, dicts of tags).
With Python's default thresholds every 700 new containers start a collection that walks
them all again, which costs time and finds nothing: these objects are not cycles. The
tuned policy raises the first threshold (or pauses automatic collection) inside a stage,
optionally freezes everything that existed before the pipeline started so later full
collections skip it, and leaves the real collection to the stage boundary.
Every change is undone on exit, exceptions included.
"""

import gc
from dataclasses import asdict, dataclass

MODES = ("default", "tuned", "disabled")


@dataclass(frozen=True)
class GCPolicy:
    """What to do with the collector inside a stage.

    - ``mode="default"``: leave Python's collector exactly as it is.
    - ``mode="tuned"``: raise the thresholds to *thresholds* inside the stage.
    - ``mode="disabled"``: no automatic collection inside the stage at all.
    - ``freeze``: ``gc.freeze()`` at the pipeline's start (objects from setup are never
      scanned again) and ``gc.unfreeze()`` at its end.
    """

    mode: str = "default"
    thresholds: tuple[int, int, int] = (50_000, 50, 100)
    freeze: bool = False

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"GCPolicy mode must be one of {MODES}, not {self.mode!r}")

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


class GCState:
    """The collector's settings, captured so they can be put back exactly."""

    def __init__(self):
        self.enabled = gc.isenabled()
        self.thresholds = gc.get_threshold()

    def restore(self) -> None:
        """Put the captured settings back."""
        gc.set_threshold(*self.thresholds)
        if self.enabled:
            gc.enable()
        else:
            gc.disable()


class GCTuning:
    """Context manager applying a :class:`GCPolicy` to one stage, restoring on exit."""

    def __init__(self, policy: GCPolicy):
        self.policy = policy
        self._saved: GCState | None = None

    def __enter__(self) -> "GCTuning":
        self._saved = GCState()
        if self.policy.mode == "tuned":
            gc.set_threshold(*self.policy.thresholds)
        elif self.policy.mode == "disabled":
            gc.disable()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._saved is not None:
            self._saved.restore()
            self._saved = None


class GCFreeze:
    """Context manager: ``gc.freeze()`` on entry when asked; unfreeze only what it froze."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.frozen = 0

    def __enter__(self) -> "GCFreeze":
        # Someone else's freeze is theirs to undo: only freeze from an unfrozen state.
        if self.enabled and gc.get_freeze_count() == 0:
            gc.collect()
            gc.freeze()
            self.frozen = gc.get_freeze_count()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.frozen:
            gc.unfreeze()
            self.frozen = 0
