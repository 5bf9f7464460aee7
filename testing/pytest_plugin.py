"""LeanRoute's pytest plugin: BMesh leaks, orphan data-blocks and memory growth as test failures.

Loaded by pytest through the ``pytest11`` entry point (name ``leanroute``) when LeanRoute
is installed; elsewhere (inside Blender under pytest-blender) with
``-p leanroute.testing.pytest_plugin``, or registered by a conftest. Importing it never
imports ``bpy``: the checks that need Blender import it when a test uses them and skip
that test, with the reason, where it is missing.

Markers (see ``docs/testing.md``):

- ``bmesh_leak_free(scan_untracked=False)``
- ``no_orphans(remove=False)``
- ``memory_growth_limit(limit, runs=5, warmup=1, trace_python=False, top=10)``

and the ``memory_guard`` fixture (:class:`.memory_guard.MemoryGuard`).

When the checks run: all of them wrap the *call* phase, the test function itself. They
start once the fixtures are set up and judge when the test function returns, before any
fixture is torn down, so what a fixture makes and removes again never counts, and a
failure is the test's own failure, not a teardown error. ``memory_growth_limit`` calls
the test function ``warmup + runs`` times within that one call phase: fixtures are set up
once and shared by every run, so a function-scoped fixture's state carries over.
"""

import pytest

from . import markers
from .memory_guard import GrowthRun, ItemChecks, MemoryGuard, blender_missing

_CHECKS = pytest.StashKey[ItemChecks]()
#: The markers that need Blender itself (memory_growth_limit measures RSS without it).
_NEEDS_BLENDER = (markers.BMESH_LEAK_FREE, markers.NO_ORPHANS)


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers, so that ``--strict-markers`` runs accept them."""
    for line in markers.MARKER_HELP:
        config.addinivalue_line("markers", line)


def _marker_options(item: pytest.Item) -> dict:
    """The checked arguments of each LeanRoute marker on *item*, by marker name."""
    options = {}
    for name, parse in markers.PARSERS.items():
        marker = item.get_closest_marker(name)
        if marker is not None:
            options[name] = parse(marker.args, marker.kwargs)
    return options


def pytest_collection_modifyitems(config: pytest.Config, items: "list[pytest.Item]") -> None:
    """Refuse misused markers before anything runs: one usage error naming each test."""
    problems = []
    for item in items:
        try:
            _marker_options(item)
        except markers.MarkerUsageError as error:
            problems.append(f"{item.nodeid}: {error}")
    if problems:
        raise pytest.UsageError("\n".join(problems))


def _checks(item: pytest.Item) -> ItemChecks:
    checks = item.stash.get(_CHECKS, None)
    if checks is None:
        checks = ItemChecks(item.nodeid, item.config.rootpath)
        item.stash[_CHECKS] = checks
    return checks


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip, with the reason, a test whose markers need Blender where bpy is missing."""
    for name in _NEEDS_BLENDER:
        if item.get_closest_marker(name) is not None:
            reason = blender_missing(f"@pytest.mark.{name}")
            if reason:
                pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Start the checks; for ``memory_growth_limit``, run the body all but its last time.

    The last run is pytest's own call of the test function, right after this hook;
    :func:`pytest_runtest_call_judge` (trylast) reads the figures after it.
    """
    options = _marker_options(item)
    checks = item.stash.get(_CHECKS, None)
    if not options and checks is None:
        return
    checks = _checks(item)
    if checks.guard is not None:
        checks.guard.start()
    if markers.BMESH_LEAK_FREE in options:
        scan = options[markers.BMESH_LEAK_FREE].scan_untracked
        checks.watch_bmeshes(scan_untracked=scan)
    if markers.NO_ORPHANS in options:
        checks.watch_orphans(remove=options[markers.NO_ORPHANS].remove)
    growth = options.get(markers.MEMORY_GROWTH_LIMIT)
    if growth is not None:
        for _ in range(growth.warmup):
            item.runtest()
        checks.growth = GrowthRun(growth)
        checks.growth.start()
        for _ in range(growth.runs - 1):
            item.runtest()
            checks.growth.record()


@pytest.hookimpl(trylast=True, specname="pytest_runtest_call")
def pytest_runtest_call_judge(item: pytest.Item) -> None:
    """After the test function returned: judge every check and fail the test on a problem."""
    checks = item.stash.get(_CHECKS, None)
    if checks is None:
        return
    problems = checks.finish()
    if checks.growth is not None:
        growth = checks.growth.report.growth
        for metric in ("rss", "blender"):
            if metric in growth:
                item.user_properties.append((f"{metric}_growth_per_run", round(growth[metric])))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """The test failed or was skipped before the judging: still free and clean up."""
    checks = item.stash.get(_CHECKS, None)
    if checks is not None:
        del item.stash[_CHECKS]  # the item lives on until the session ends; its checks not
        checks.abandon()


@pytest.fixture
def memory_guard(request: pytest.FixtureRequest) -> MemoryGuard:
    """Memory checks switched on from inside the test; see :class:`.memory_guard.MemoryGuard`.

    ::

        def test_rebuild(memory_guard):
            memory_guard.limit("50 MB")       # RSS growth budget of the whole test
            memory_guard.no_bmesh_leaks()     # as @pytest.mark.bmesh_leak_free, from here on
            memory_guard.no_orphans()         # as @pytest.mark.no_orphans, from here on
            rebuild()
            print(memory_guard.check().summary())

    The baseline is read when the test function starts; the checks are judged when it
    returns, and a failure names RSS and Blender's allocator before and after the test.
    """
    return _checks(request.node).ensure_guard()
