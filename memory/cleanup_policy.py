"""What the boundary after each stage does to give memory back (plain data, no bpy)."""

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class CleanupPolicy:
    """Switches for the cleanup after each stage; the defaults are LeanRoute's hygiene.

    - ``gc_collect``: a full ``gc.collect()``.
    - ``remove_orphans``: remove orphan data-blocks that this pipeline created (never the
      user's), recursively.
    - ``purge_all_orphans``: Blender's global purge, which also deletes the user's unused
      data-blocks: off unless asked for.
    - ``clear_stage_caches``: clear bounded caches registered with scope "stage".
    - ``trim_heap``: return freed heap to the OS (``malloc_trim(0)`` on glibc).
    - ``sweep_bmeshes``: free BMeshes still alive at the stage's end and report them.
    - ``scan_untracked_bmeshes``: also look for BMeshes not made through ``bmesh.new``
      (costly: walks every container in the process).
    - ``measure_uss``: read USS before and after (a few ms each in a Blender process).
    - ``trace_python``: trace the Python heap with tracemalloc (slows Python code down).
    - ``kernel_peak``: use Linux's resettable RSS high-water mark for exact peaks.
    """

    gc_collect: bool = True
    remove_orphans: bool = True
    purge_all_orphans: bool = False
    clear_stage_caches: bool = True
    trim_heap: bool = True
    sweep_bmeshes: bool = True
    scan_untracked_bmeshes: bool = False
    measure_uss: bool = True
    trace_python: bool = False
    kernel_peak: bool = True

    @classmethod
    def off(cls) -> "CleanupPolicy":
        """Hygiene off: measure only (the baseline that benchmarks compare against)."""
        return cls(
            gc_collect=False,
            remove_orphans=False,
            clear_stage_caches=False,
            trim_heap=False,
            sweep_bmeshes=False,
        )

    def but(self, **changes) -> "CleanupPolicy":
        """A copy with some switches changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)
