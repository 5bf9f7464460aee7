"""The extension's metadata agrees with itself, and the core imports without Blender."""

import ast
import subprocess
import sys
import tomllib

import pytest
from helpers.paths import REPO_ROOT

MANIFEST = tomllib.loads((REPO_ROOT / "blender_manifest.toml").read_text())
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def read_bl_info() -> dict:
    """Read bl_info the way Blender's legacy add-on loader does: as a literal, without importing."""
    tree = ast.parse((REPO_ROOT / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "bl_info" for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("__init__.py has no literal bl_info")


def test_manifest_declares_the_extension():
    assert MANIFEST["schema_version"] == "1.0.0"
    assert MANIFEST["id"] == "leanroute"
    assert MANIFEST["type"] == "add-on"
    assert MANIFEST["blender_version_min"] == "4.2.0"
    assert MANIFEST["permissions"]["files"].strip()
    assert MANIFEST["license"] == ["SPDX:GPL-3.0-or-later"]


def test_manifest_bundles_one_psutil_abi3_wheel_per_platform():
    wheels = MANIFEST["wheels"]
    assert len(wheels) == len(MANIFEST["platforms"]) == 6
    assert all(w.startswith("./wheels/psutil-") and "-abi3-" in w for w in wheels)
    assert len({w.split("-")[1] for w in wheels}) == 1, (
        "every platform gets the same psutil version"
    )


def test_legacy_bl_info_covers_blender_3_4_and_matches_the_manifest():
    bl_info = read_bl_info()
    assert bl_info["blender"] == (3, 4, 0)
    assert bl_info["name"] == MANIFEST["name"]
    assert ".".join(map(str, bl_info["version"])) == MANIFEST["version"]
    assert PYPROJECT["project"]["version"] == MANIFEST["version"]


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {"leanroute"} | {
        "leanroute." + ".".join(init.parent.relative_to(REPO_ROOT).parts)
        for init in REPO_ROOT.glob("*/**/__init__.py")
        if init.parent.relative_to(REPO_ROOT).parts[0] not in {"tests", "tools", "wheels", "dist"}
        and not init.parent.relative_to(REPO_ROOT).parts[0].startswith(".")
    }
    assert listed == on_disk


# memory/'s plain-Python half: what the panel, reports and batch tools use without Blender.
MEMORY_CORE = [
    "allocation_limit",
    "allocator_text",
    "bounded_cache",
    "budget",
    "cache_registry",
    "cleanup_policy",
    "datablock_size_model",
    "gc_policy",
    "growth",
    "heap_trim",
    "idle_policy",
    "peak",
    "process_memory",
    "report",
    "report_bars",
    "report_table",
    "sampler",
    "thread_interrupt",
    "units",
]


# route/'s plain-Python half: reading, projection, routing, geometry, settings.
ROUTE_CORE = [
    "atomic_files",
    "build_paths",
    "building_geometry",
    "clip_box",
    "count_fields",
    "demo_forecast",
    "errors",
    "gps_glitches",
    "gpx_track",
    "input_files",
    "interrupts",
    "kill_points",
    "memory_forecast",
    "mesh_arrays",
    "motion",
    "multipolygon",
    "osm_model",
    "osm_needs",
    "osm_parse",
    "output_commit",
    "output_paths",
    "polylines",
    "projection",
    "ring_crossings",
    "ring_index",
    "ring_nesting",
    "road_geometry",
    "road_graph",
    "roof_strips",
    "routing",
    "sample_city",
    "settings",
    "strict_json",
    "strict_numbers",
    "track_smoothing",
    "xml_input",
]


# progress/ is plain Python throughout.
PROGRESS_CORE = [
    "batch_summary",
    "build_summary",
    "checkpoint",
    "checkpoint_load",
    "event_log",
    "own_files",
    "record_check",
    "stage_progress",
    "terminal_bar",
    "timeline_chart",
]

# testing/: the pytest plugin imports bpy only inside the checks that need it.
TESTING_CORE = ["failure_text", "markers", "memory_guard", "pytest_plugin"]

# batch/ without its Blender shell (job_runner, launcher).
BATCH_CORE = [
    "admission",
    "batch_lock",
    "batch_paths",
    "batch_report",
    "circuit_breaker",
    "coordinator",
    "job_claims",
    "job_evidence",
    "job_record",
    "jobs_file",
    "output_folder",
    "resume",
    "sharding",
    "worker_loop",
    "worker_process",
    "worker_protocol",
]


@pytest.mark.parametrize(
    "module",
    [
        "leanroute.cli.arguments",
        "leanroute.cli.commands",
        "leanroute.cli.interrupted",
        *(f"leanroute.route.{name}" for name in ROUTE_CORE),
        "leanroute",
        "leanroute.memory",
        "leanroute.route",
        "leanroute.progress",
        *(f"leanroute.progress.{name}" for name in PROGRESS_CORE),
        *(f"leanroute.batch.{name}" for name in BATCH_CORE),
        "leanroute.cli.batch_command",
        # pytest may load the plugin where Blender is not importable.
        *(f"leanroute.testing.{name}" for name in TESTING_CORE),
        *(f"leanroute.memory.{name}" for name in MEMORY_CORE),
    ],
)
def test_core_imports_without_blender(module):
    # A meta-path hook that refuses Blender's modules, in a fresh interpreter.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'bpy', 'bmesh', 'mathutils', 'addon_utils'}:\n"
        "            raise ImportError(f'{name} imported by the core')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"import {module}\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_every_module_imports_without_posix_only_modules():
    # Windows Python has no resource, fcntl or termios: the extension must still load there.
    code = (
        "import importlib, pkgutil, sys\n"
        "import bpy\n"
        "POSIX_ONLY = {'resource', 'fcntl', 'termios'}\n"
        "for name in POSIX_ONLY:\n"
        "    sys.modules.pop(name, None)\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in POSIX_ONLY:\n"
        "            raise ImportError(f'no {name} here')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import leanroute\n"
        "skip = ('leanroute.tests', 'leanroute.bench', 'leanroute.tools', 'leanroute.wheels')\n"
        "for info in pkgutil.walk_packages(leanroute.__path__, 'leanroute.'):\n"
        "    if not info.name.endswith('__main__') and not info.name.startswith(skip):\n"
        "        importlib.import_module(info.name)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
