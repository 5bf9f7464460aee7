"""LeanRoute's pytest plugin, run by pytester on leaky and clean test files; the failure text.

The inner runs happen in this process (pytester's in-process runner), against the same
Blender: data-blocks they leave are named "plugintest ..." and removed after each test.
Plugin auto-loading is off in the inner runs (the venv's pytest-blender would take them
over), so they load the plugin with ``-p leanroute.testing.pytest_plugin``; the entry
point itself is checked in the module lane, where LeanRoute is installed.

Every test here but the last two also runs inside Blender 3.4 (pytester works there too).
"""

import os
import subprocess
import sys
import textwrap

import bmesh
import bpy
import pytest

from leanroute.memory.bmesh_ledger import live_bmeshes
from leanroute.testing import pytest_plugin

pytest_plugins = ["pytester"]

HEADER = "import bmesh\nimport bpy\nimport pytest\n\n"
PLUGIN = "leanroute.testing.pytest_plugin"
PREFIX = "plugintest"


def _remove_plugintest_data() -> None:
    for name in ("objects", "meshes", "materials"):
        collection = getattr(bpy.data, name)
        for idb in [idb for idb in collection if idb.name.startswith(PREFIX)]:
            collection.remove(idb)


@pytest.fixture(autouse=True)
def _clean_blender():
    _remove_plugintest_data()
    yield
    _remove_plugintest_data()
    assert live_bmeshes() == 0
    assert not hasattr(bmesh.new, "original"), "bmesh.new is Blender's own again"


class Inner:
    """Writes test_subject.py and runs pytest on it in this process."""

    def __init__(self, pytester):
        self.pytester = pytester
        self.source = ""

    def run(self, source: str, *args: str):
        self.source = HEADER + textwrap.dedent(source)
        self.pytester.makepyfile(test_subject=self.source)
        return self.pytester.runpytest_inprocess(
            "-p", PLUGIN, "--strict-markers", "-p", "no:cacheprovider", *args
        )

    def line(self, needle: str) -> int:
        """Line number of the first source line containing *needle*."""
        for number, text in enumerate(self.source.splitlines(), start=1):
            if needle in text:
                return number
        raise AssertionError(f"{needle!r} not in the test file")


@pytest.fixture
def inner(pytester, monkeypatch) -> Inner:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return Inner(pytester)


# -- bmesh_leak_free ----------------------------------------------------------------------


@pytest.mark.binary_compatible
def test_bmesh_leak_free_fails_naming_each_leaked_bmesh_and_frees_them(inner):
    result = inner.run(
        """
        KEPT = []

        @pytest.mark.bmesh_leak_free
        def test_leaky():
            bm = bmesh.new()  # first leak
            bmesh.ops.create_grid(bm, x_segments=1, y_segments=1, size=1.0)
            KEPT.append(bm)
            KEPT.append(bmesh.new())  # second leak

        def test_the_leaks_were_freed():
            assert len(KEPT) == 2
            assert not any(bm.is_valid for bm in KEPT)
        """
    )
    result.assert_outcomes(passed=1, failed=1)
    first, second = inner.line("# first leak"), inner.line("# second leak")
    result.stdout.fnmatch_lines(
        [
            "2 BMeshes left alive by the test (freed now): "
            f"test_subject.py:{first} (new: 4 verts, 4 edges, 1 faces), "
            f"test_subject.py:{second} (new: 0 verts, 0 edges, 0 faces)"
        ]
    )


@pytest.mark.binary_compatible
def test_bmesh_leak_free_passes_on_freed_dropped_and_scoped_bmeshes(inner):
    result = inner.run(
        """
        from leanroute.memory.bmesh_scopes import new_bmesh

        pytestmark = pytest.mark.bmesh_leak_free

        def test_freed():
            bm = bmesh.new()
            bm.verts.new((0, 0, 0))
            bm.free()

        def test_dropped():
            bmesh.new().verts.new((0, 0, 0))  # its last reference dies: Python frees it

        def test_scoped():
            with new_bmesh() as bm:
                bmesh.ops.create_grid(bm, x_segments=20, y_segments=20, size=1.0)
        """
    )
    result.assert_outcomes(passed=3)


@pytest.mark.binary_compatible
def test_the_untracked_scan_finds_copies_but_not_bmeshes_older_than_the_test(inner):
    result = inner.run(
        """
        OLDER = bmesh.new()  # made at import: before the test, not the test's
        KEPT = []

        @pytest.mark.bmesh_leak_free(scan_untracked=True)
        def test_copies():
            bm = bmesh.new()
            bmesh.ops.create_cube(bm, size=1.0)
            KEPT.append(bm.copy())
            bm.free()

        def test_after():
            assert not KEPT[0].is_valid
            assert OLDER.is_valid
            OLDER.free()
        """
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "1 BMesh left alive by the test (freed now): unknown site (not made by "
            "bmesh.new, e.g. BMesh.copy()) (untracked: 8 verts, 12 edges, 6 faces)"
        ]
    )


@pytest.mark.binary_compatible
def test_a_failing_test_still_gets_its_bmeshes_freed(inner):
    result = inner.run(
        """
        KEPT = []

        @pytest.mark.bmesh_leak_free
        def test_fails():
            KEPT.append(bmesh.new())
            assert 1 == 2, "the test's own failure"

        def test_after():
            assert not KEPT[0].is_valid
        """
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*the test's own failure*"])
    result.stdout.no_fnmatch_line("*left alive*")


# -- no_orphans -----------------------------------------------------------------------------


@pytest.mark.binary_compatible
def test_no_orphans_fails_naming_each_orphan_by_type(inner):
    result = inner.run(
        """
        @pytest.mark.no_orphans
        def test_leaves_orphans():
            bpy.data.meshes.new("plugintest grid")
            bpy.data.meshes.new("plugintest grid")
            bpy.data.materials.new("plugintest road")
        """
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "3 orphan data-blocks created by the test and left behind: "
            "meshes 'plugintest grid', 'plugintest grid.001'; materials 'plugintest road'"
        ]
    )
    assert "plugintest grid" in bpy.data.meshes  # reported, not removed


@pytest.mark.binary_compatible
def test_no_orphans_passes_when_the_test_removes_or_uses_what_it_made(inner):
    result = inner.run(
        """
        pytestmark = pytest.mark.no_orphans

        def test_removes():
            mesh = bpy.data.meshes.new("plugintest temporary")
            bpy.data.meshes.remove(mesh)

        def test_links_into_the_scene():
            mesh = bpy.data.meshes.new("plugintest kept")
            obj = bpy.data.objects.new("plugintest kept", mesh)
            bpy.context.scene.collection.objects.link(obj)

        def test_fake_user():
            bpy.data.materials.new("plugintest library").use_fake_user = True
        """
    )
    result.assert_outcomes(passed=3)


@pytest.mark.binary_compatible
def test_an_orphan_from_before_the_test_never_counts_and_is_never_removed(inner):
    bpy.data.meshes.new("plugintest user orphan")
    result = inner.run(
        """
        @pytest.mark.no_orphans(remove=True)
        def test_reads_the_user_orphan():
            assert bpy.data.meshes["plugintest user orphan"].users == 0

        @pytest.mark.no_orphans(remove=True)
        def test_leaves_its_own():
            mesh = bpy.data.meshes.new("plugintest own")
            bpy.data.objects.new("plugintest own", mesh)
        """
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "1 orphan data-block created by the test and left behind: objects "
            "'plugintest own' (removed now, with 1 data-block only they used)"
        ]
    )
    assert "plugintest user orphan" in bpy.data.meshes
    assert "plugintest own" not in bpy.data.meshes
    assert "plugintest own" not in bpy.data.objects


# -- memory_growth_limit -----------------------------------------------------------------


@pytest.mark.binary_compatible
def test_memory_growth_limit_fails_on_python_growth_per_run_and_runs_the_body_again(inner):
    result = inner.run(
        """
        KEPT = []
        SETUPS = []

        @pytest.fixture
        def counted():
            SETUPS.append(1)

        @pytest.mark.memory_growth_limit("8 MB", runs=3)
        def test_keeps_a_block_per_run(counted):
            KEPT.append(b"x" * (24 * 1024 * 1024))

        def test_after():
            assert len(KEPT) == 4  # 1 warm-up + 3 measured runs
            assert len(SETUPS) == 1  # fixtures are set up once
            KEPT.clear()
        """
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "Test was limited to 8.0 MiB of growth per run but grew 2?.? MiB per run (RSS) "
            "over 3 runs; Blender's allocator * per run; data-blocks +0 per run; "
            "RSS after each run: *, *, * MiB (from * MiB before the first)",
            "(trace_python=True lists the Python allocation sites that grew)",
        ]
    )


@pytest.mark.binary_compatible
def test_memory_growth_limit_names_blenders_growth_and_the_data_blocks(inner):
    result = inner.run(
        """
        KEPT = []

        @pytest.mark.memory_growth_limit("1 MB", runs=3, warmup=0)
        def test_keeps_a_big_mesh_per_run():
            mesh = bpy.data.meshes.new("plugintest big")
            mesh.vertices.add(300_000)
            KEPT.append(mesh.name)

        def test_after():
            assert len(KEPT) == 3  # no warm-up
        """
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "Test was limited to 1.0 MiB of growth per run but grew * per run (*) over 3 runs;"
            "*data-blocks +1 per run (meshes +1);*Blender's allocator after each run: *"
        ]
    )


@pytest.mark.binary_compatible
def test_memory_growth_limit_with_trace_python_names_the_allocating_line(inner):
    result = inner.run(
        """
        KEPT = []

        @pytest.mark.memory_growth_limit("1 MB", runs=2, trace_python=True, top=3)
        def test_keeps_strings():
            KEPT.append([str(i) for i in range(20_000)])  # the growing line
        """
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Python allocation sites that grew the most over the 2 runs (tracemalloc):",
            f"  +* MiB (+* blocks) at test_subject.py:{inner.line('# the growing line')}",
        ]
    )


@pytest.mark.binary_compatible
def test_memory_growth_limit_passes_when_each_run_frees_what_it_made(inner):
    result = inner.run(
        """
        from leanroute.memory.bmesh_scopes import new_bmesh

        @pytest.mark.memory_growth_limit("8 MB", runs=3)
        def test_clean():
            block = b"x" * (24 * 1024 * 1024)
            del block
            mesh = bpy.data.meshes.new("plugintest temporary")
            mesh.vertices.add(100_000)
            bpy.data.meshes.remove(mesh)
            with new_bmesh() as bm:
                bmesh.ops.create_grid(bm, x_segments=100, y_segments=100, size=1.0)
        """
    )
    result.assert_outcomes(passed=1)


# -- memory_guard ---------------------------------------------------------------------------


@pytest.mark.binary_compatible
def test_memory_guard_limit_fails_with_the_figures_before_and_after(inner):
    result = inner.run(
        """
        KEPT = []

        def test_over_budget(memory_guard):
            memory_guard.limit("8 MB")
            KEPT.append(b"x" * (24 * 1024 * 1024))

        def test_within_budget(memory_guard):
            memory_guard.limit("64 MB", blender="64 MB")
            KEPT.clear()
        """
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "Test was limited to 8.0 MiB of RSS growth but grew 2?.? MiB",
            "Memory of the test: RSS * MiB before, * MiB after (+2?.? MiB); "
            "Blender's allocator * before, * after (*); RSS budget 8.0 MiB",
        ]
    )


@pytest.mark.binary_compatible
def test_memory_guard_check_gives_the_figures_and_the_checks_switched_on(inner):
    result = inner.run(
        """
        def test_figures(memory_guard):
            figures = memory_guard.check()
            assert figures.rss_before > 0 and figures.rss_growth is not None
            assert figures.blender is not None
            assert (figures.live_bmeshes, figures.orphans, figures.over_limit) == (
                None, None, False
            )
            memory_guard.no_bmesh_leaks()
            memory_guard.no_orphans()
            bm = bmesh.new()
            mesh = bpy.data.meshes.new("plugintest checked")
            figures = memory_guard.check()
            assert figures.live_bmeshes == 1
            assert figures.orphans == (("meshes", "plugintest checked"),)
            assert "RSS" in figures.summary()
            bm.free()
            bpy.data.meshes.remove(mesh)
            assert memory_guard.check().live_bmeshes == 0
        """
    )
    result.assert_outcomes(passed=1)


@pytest.mark.binary_compatible
def test_memory_guard_switches_on_the_marker_checks(inner):
    result = inner.run(
        """
        KEPT = []

        def test_leaks(memory_guard):
            memory_guard.no_bmesh_leaks()
            memory_guard.no_orphans(remove=True)
            KEPT.append(bmesh.new())  # leaked here
            bpy.data.materials.new("plugintest paint")

        def test_bad_size(memory_guard):
            memory_guard.limit("lots")
        """
    )
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "1 BMesh left alive by the test (freed now): "
            f"test_subject.py:{inner.line('# leaked here')} (new: 0 verts, 0 edges, 0 faces)",
            "1 orphan data-block created by the test and left behind: "
            "materials 'plugintest paint' (removed now)",
            "Memory of the test: RSS * before, * after *",
        ]
    )
    result.stdout.fnmatch_lines(["*ValueError: memory_guard.limit: cannot read 'lots' as a size*"])
    assert "plugintest paint" not in bpy.data.materials


@pytest.mark.binary_compatible
def test_memory_guard_refuses_checks_switched_on_after_the_test_returned(inner):
    result = inner.run(
        """
        @pytest.fixture
        def late(memory_guard):
            yield
            memory_guard.no_bmesh_leaks()

        def test_late(late):
            pass
        """
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*RuntimeError: memory_guard.no_bmesh_leaks(): the test "
            "test_subject.py::test_late has already returned*"
        ]
    )


# -- registration and misuse ----------------------------------------------------------------


@pytest.mark.binary_compatible
def test_misused_markers_are_one_usage_error_naming_each_test(inner):
    result = inner.run(
        """
        @pytest.mark.memory_growth_limit("twenty MB")
        def test_bad_size():
            pass

        @pytest.mark.memory_growth_limit("1 MB", runs=1)
        def test_one_run():
            pass

        @pytest.mark.no_orphans(purge=True)
        def test_unknown_argument():
            pass

        @pytest.mark.memory_growth_limit
        def test_no_limit():
            pass
        """
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: test_subject.py::test_bad_size: @pytest.mark.memory_growth_limit: cannot "
            "read 'twenty MB' as a size: use a number and a unit, e.g. '20 MB', '1.5 GB'",
            "test_subject.py::test_one_run: @pytest.mark.memory_growth_limit: runs must be a "
            "whole number >= 2, not 1",
            "test_subject.py::test_unknown_argument: @pytest.mark.no_orphans has no argument "
            "'purge' (it takes: remove)",
            "test_subject.py::test_no_limit: @pytest.mark.memory_growth_limit needs a limit "
            "per run, e.g. @pytest.mark.memory_growth_limit('20 MB')",
        ]
    )


@pytest.mark.binary_compatible
def test_the_markers_are_registered_for_strict_markers(inner):
    result = inner.run("", "--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.bmesh_leak_free(scan_untracked=False): *",
            "@pytest.mark.no_orphans(remove=False): *",
            "@pytest.mark.memory_growth_limit(limit, runs=5, warmup=1, trace_python=False, *",
        ]
    )


@pytest.mark.binary_compatible
def test_this_session_has_the_plugin(request):
    # From the entry point in the venv, from tests/conftest.py inside blender; under its
    # module name with `-p no:leanroute -p leanroute.testing.pytest_plugin`.
    manager = request.config.pluginmanager
    assert manager.is_registered(pytest_plugin)
    assert manager.get_name(pytest_plugin) in {"leanroute", PLUGIN}


# -- module lane only: the installed entry point, and a Python without Blender ---------------

# Inside blender, LeanRoute is no installed distribution, and sys.executable is no venv.
module_lane_only = pytest.mark.skipif(
    bool(bpy.app.binary_path), reason="module lane only: needs the venv's Python and install"
)

BLOCK_BLENDER = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in {'bpy', 'bmesh', 'mathutils'}:\n"
    "            raise ImportError(f'no {name} in this Python')\n"
    "sys.meta_path.insert(0, Block())\n"
)


@module_lane_only
def test_installed_leanroute_is_loaded_by_its_entry_point(pytester):
    pytester.makepyfile(
        test_subject="""
        def test_plugin(request):
            from leanroute.testing import pytest_plugin
            assert request.config.pluginmanager.get_plugin("leanroute") is pytest_plugin
        """
    )
    pytester.runpytest_inprocess("-p", "no:pytest-blender").assert_outcomes(passed=1)


@module_lane_only
def test_without_blender_the_plugin_loads_and_the_blender_markers_skip_clearly(pytester):
    pytester.makepyfile(
        test_subject="""
        import pytest

        KEPT = []

        @pytest.mark.bmesh_leak_free
        def test_bmeshes():
            pass

        @pytest.mark.no_orphans
        def test_orphans():
            pass

        @pytest.mark.memory_growth_limit("4 MB", runs=2)
        def test_growth_is_measured_as_rss():
            KEPT.append(b"x" * (16 * 1024 * 1024))

        def test_guard_budget_works_and_its_blender_checks_skip(memory_guard):
            memory_guard.limit("64 MB")
            memory_guard.no_orphans()
        """
    )
    code = BLOCK_BLENDER + (
        "import pytest\n"
        f"code = pytest.main(['-p', '{PLUGIN}', '--strict-markers', '-rs', '-p', "
        "'no:cacheprovider'])\n"
        "assert 'bpy' not in sys.modules\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=pytester.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    for expected in (
        "@pytest.mark.bmesh_leak_free needs Blender, but bpy cannot be imported here",
        "@pytest.mark.no_orphans needs Blender",
        "memory_guard.no_orphans() needs Blender",
        "Test was limited to 4.0 MiB of growth per run but grew",
        "Blender's allocator not measured (bpy not loaded)",
        "1 failed, 3 skipped",
    ):
        assert expected in run.stdout, run.stdout
