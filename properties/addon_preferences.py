# SPDX-License-Identifier: GPL-3.0-or-later
"""Preferences > Add-ons > LeanRoute: budgets, cleanup defaults, sampler, report folder."""

from types import SimpleNamespace

import bpy

from ..memory.budget import MemoryBudget
from ..memory.cleanup_policy import CleanupPolicy
from ..memory.units import parse_size
from ..route.errors import SettingsError

# The add-on's own module name: "leanroute" as a legacy add-on, "bl_ext.<repo>.leanroute"
# as an extension. Preferences are keyed by it.
ADDON_ID = __package__.rpartition(".")[0]

#: The cleanup switches the preferences expose, with the hygiene defaults.
CLEANUP_SWITCHES = (
    ("gc_collect", "Collect Garbage", "Run a full gc.collect() after every stage"),
    (
        "remove_orphans",
        "Remove Build Orphans",
        "Remove orphan data-blocks the build created after every stage (never yours)",
    ),
    (
        "clear_stage_caches",
        "Clear Stage Caches",
        "Empty the caches that live for one stage when it ends",
    ),
    ("trim_heap", "Return Memory to OS", "Hand freed heap back to the system after every stage"),
    (
        "sweep_bmeshes",
        "Sweep BMeshes",
        "Free BMeshes still alive when their stage ends and report where they were made",
    ),
    ("measure_uss", "Measure USS", "Read unique memory (USS) before and after every stage"),
    (
        "trace_python",
        "Trace Python Heap",
        "Trace Python allocations with tracemalloc (exact Python peaks; slows Python code)",
    ),
)


def _policy_property(name: str, label: str, description: str):
    return bpy.props.BoolProperty(
        name=label, description=description, default=getattr(CleanupPolicy(), name)
    )


class LEANROUTE_AP_preferences(bpy.types.AddonPreferences):
    """LeanRoute's add-on preferences."""

    bl_idname = ADDON_ID

    soft_budget: bpy.props.StringProperty(
        name="Soft Budget",
        description="Process memory (RSS) above which each stage cleans up harder, "
        "e.g. '1.5 GB'; the idle auto-clean also starts above it. Empty: none",
        default="",
    )
    hard_budget: bpy.props.StringProperty(
        name="Hard Budget",
        description="Process memory (RSS) at which a stage is stopped and rolled back, "
        "e.g. '2 GB'. Empty: 80 % of the memory available when the stage starts",
        default="",
    )
    __annotations__.update(
        {name: _policy_property(name, label, text) for name, label, text in CLEANUP_SWITCHES}
    )
    sampler_interval_ms: bpy.props.FloatProperty(
        name="Sampler Interval",
        description="How often the background thread samples RSS for stage peaks, in ms",
        default=10.0,
        min=1.0,
        max=1000.0,
    )
    panel_refresh_s: bpy.props.FloatProperty(
        name="Panel Refresh",
        description="How often the Memory panel's figures refresh while it is visible, in s",
        default=1.0,
        min=0.2,
        max=60.0,
    )
    report_folder: bpy.props.StringProperty(
        name="Report Folder",
        description="Where Export Report suggests saving, and where reports are written "
        "after every build when that is on",
        subtype="DIR_PATH",
    )
    write_report_after_build: bpy.props.BoolProperty(
        name="Write Report After Each Build",
        description="Write every build's memory report as JSON into the report folder",
        default=False,
    )
    auto_clean: bpy.props.BoolProperty(
        name="Idle Auto-Clean",
        description="While Blender is idle and memory is above the soft budget, run the "
        "cleanup (garbage, build orphans, stage caches, return memory to the OS)",
        default=False,
    )
    auto_clean_interval_s: bpy.props.FloatProperty(
        name="Auto-Clean Interval",
        description="Seconds between idle checks (and at least between two cleanups)",
        default=30.0,
        min=1.0,
        max=3600.0,
    )

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        column = layout.column(heading="Memory Budget")
        for name in ("soft_budget", "hard_budget"):
            row = column.row()
            row.alert = budget_problem(getattr(self, name)) is not None
            row.prop(self, name)
        column = layout.column(heading="Cleanup After Each Stage")
        for name, _label, _text in CLEANUP_SWITCHES:
            column.prop(self, name)
        column = layout.column(heading="Monitoring")
        column.prop(self, "sampler_interval_ms")
        column.prop(self, "panel_refresh_s")
        column.prop(self, "auto_clean")
        sub = column.column()
        sub.active = self.auto_clean
        sub.prop(self, "auto_clean_interval_s")
        column = layout.column(heading="Reports")
        column.prop(self, "report_folder")
        column.prop(self, "write_report_after_build")


_PROPERTY_NAMES = tuple(LEANROUTE_AP_preferences.__annotations__)


def default_preferences() -> SimpleNamespace:
    """The preferences' default values, for when the add-on's preferences are not stored.

    That is the case when the package is registered directly (``leanroute.register()``)
    rather than enabled as an add-on.
    """
    values = {}
    for name in _PROPERTY_NAMES:
        prop = LEANROUTE_AP_preferences.__annotations__[name]
        values[name] = prop.keywords.get("default", "")
    return SimpleNamespace(**values)


def get_preferences(context=None):
    """The add-on preferences, or their defaults when the add-on is not enabled."""
    context = context or bpy.context
    addon = context.preferences.addons.get(ADDON_ID)
    if addon is None or addon.preferences is None:
        return default_preferences()
    return addon.preferences


def budget_problem(text: str) -> "str | None":
    """Why *text* is not a size ("1.5 GB"), or None when it is fine (empty is fine)."""
    if not text.strip():
        return None
    try:
        parse_size(text)
    except (TypeError, ValueError) as error:
        return str(error)
    return None


def memory_budget(prefs) -> MemoryBudget:
    """The MemoryBudget the preferences ask for; SettingsError naming a malformed one."""
    sizes = {}
    for name in ("soft_budget", "hard_budget"):
        text = getattr(prefs, name).strip()
        problem = budget_problem(text)
        if problem:
            label = name.replace("_", " ")
            raise SettingsError(f"preferences: {label}", problem)
        sizes[name.split("_")[0]] = text or None
    if sizes["hard"] is None:
        return MemoryBudget.default(soft=sizes["soft"])
    return MemoryBudget(**sizes)


def cleanup_policy(prefs) -> CleanupPolicy:
    """The CleanupPolicy the preferences' switches describe."""
    return CleanupPolicy().but(
        **{name: bool(getattr(prefs, name)) for name, *_ in CLEANUP_SWITCHES}
    )


def sampler_interval(prefs) -> float:
    """The sampler interval in seconds."""
    return float(prefs.sampler_interval_ms) / 1000.0
