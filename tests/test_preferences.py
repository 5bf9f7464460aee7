"""Preferences: budgets, cleanup defaults and sampler interval reach the build."""

import addon_utils
import bpy
import pytest

from leanroute.memory.budget import MemoryBudget
from leanroute.memory.cleanup_policy import CleanupPolicy
from leanroute.properties import addon_preferences
from leanroute.route.errors import SettingsError

pytestmark = pytest.mark.binary_compatible


def _raise(error):
    raise error


def test_defaults_are_the_hygiene_defaults(addon_scene):
    prefs = addon_preferences.get_preferences()
    assert addon_preferences.cleanup_policy(prefs) == CleanupPolicy()
    # Empty budgets: the default hard budget, a share of the memory available.
    assert addon_preferences.memory_budget(prefs) == MemoryBudget.default()
    assert addon_preferences.sampler_interval(prefs) == pytest.approx(0.01)


def test_a_malformed_budget_names_the_preference():
    prefs = addon_preferences.default_preferences()
    prefs.soft_budget = "lots"
    with pytest.raises(SettingsError, match="preferences: soft budget: cannot read 'lots'"):
        addon_preferences.memory_budget(prefs)
    prefs.soft_budget, prefs.hard_budget = "1.5 GB", "2GiB"
    budget = addon_preferences.memory_budget(prefs)
    assert (budget.soft, budget.hard) == ("1.5 GB", "2GiB")


def test_enabled_add_on_preferences_are_stored_and_read():
    addon_utils.enable("leanroute", default_set=True, handle_error=_raise)
    try:
        prefs = bpy.context.preferences.addons["leanroute"].preferences
        prefs.trim_heap = False
        prefs.sampler_interval_ms = 25.0
        prefs.hard_budget = "3 GB"
        found = addon_preferences.get_preferences(bpy.context)
        assert addon_preferences.cleanup_policy(found).trim_heap is False
        assert addon_preferences.sampler_interval(found) == pytest.approx(0.025)
        assert addon_preferences.memory_budget(found).hard == "3 GB"
    finally:
        addon_utils.disable("leanroute", default_set=True, handle_error=_raise)
