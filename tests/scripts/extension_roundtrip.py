"""Install a built LeanRoute zip into the bpy module, enable, disable, uninstall; report JSON.

Run with the venv's Python (a fresh process: Blender reads BLENDER_USER_RESOURCES
when bpy is imported, so it must be set before that):

    python extension_roundtrip.py ZIP --user-resources DIR

Prints one line ``LEANROUTE_ROUNDTRIP {json}`` describing each step.
"""

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ID = "user_default"
MODULE = f"bl_ext.{REPO_ID}.leanroute"
PANEL = "LEANROUTE_PT_route"


def import_alone(module: str, folder: Path) -> str:
    """Import ``module`` in a Python that sees only ``folder`` and the standard library.

    This venv has its own psutil; `-S` hides it, so this proves the bundled wheel works.
    """
    code = (
        f"import sys; sys.path.insert(0, {str(folder)!r}); import {module}; "
        f"{module}.Process().memory_info(); print({module}.__file__)"
    )
    run = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, check=False
    )
    return run.stdout.strip() if run.returncode == 0 else f"failed: {run.stderr.strip()}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("zip", type=Path)
    parser.add_argument("--user-resources", type=Path, required=True)
    args = parser.parse_args()

    os.environ["BLENDER_USER_RESOURCES"] = str(args.user_resources)
    (args.user_resources / "extensions" / REPO_ID).mkdir(parents=True, exist_ok=True)

    import bpy

    # Blender's own modules become importable once bpy is.
    addon_utils = importlib.import_module("addon_utils")

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from helpers.blender_state import diff, snapshot

    repo_index = next(
        i
        for i, repo in enumerate(bpy.context.preferences.extensions.repos)
        if repo.module == REPO_ID
    )
    install_dir = args.user_resources / "extensions" / REPO_ID / "leanroute"
    report = {"blender": bpy.app.version_string, "module": MODULE}
    before = snapshot()

    result = bpy.ops.extensions.package_install_files(
        filepath=str(args.zip),
        repo=REPO_ID,
        enable_on_install=True,
    )
    report["install_result"] = sorted(result)
    report["installed_files"] = sorted(
        str(path.relative_to(install_dir))
        for path in install_dir.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )
    report["enabled"] = MODULE in bpy.context.preferences.addons
    report["panel_registered"] = hasattr(bpy.types, PANEL)
    panel = getattr(bpy.types, PANEL, None)
    report["panel_category"] = getattr(panel, "bl_category", None)
    report["added_by_enable"] = diff(before, snapshot())
    site_packages = Path(bpy.utils.user_resource("EXTENSIONS")) / ".local" / "lib"
    bundled = sorted(site_packages.glob("python*/site-packages/psutil"))
    report["bundled_psutil"] = [str(path.relative_to(site_packages)) for path in bundled]
    report["bundled_psutil_imports_from"] = (
        import_alone("psutil", bundled[0].parent) if bundled else None
    )

    addon_utils.disable(MODULE, default_set=True)
    report["panel_after_disable"] = hasattr(bpy.types, PANEL)
    report["left_after_disable"] = diff(before, snapshot())

    result = bpy.ops.extensions.package_uninstall(repo_index=repo_index, pkg_id="leanroute")
    report["uninstall_result"] = sorted(result)
    report["files_after_uninstall"] = install_dir.exists()
    report["psutil_after_uninstall"] = any(site_packages.glob("python*/site-packages/psutil"))

    print("LEANROUTE_ROUNDTRIP " + json.dumps(report, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
