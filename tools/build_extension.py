"""Build and validate the per-platform extension zips with Blender's own tool.

Blender's extension builder (``blender_ext.py``) ships inside the ``bpy`` package;
it is found there without importing ``bpy``. Wheels are fetched first.

Usage (from the repository root): python -m tools.build_extension [--output-dir dist]
"""

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

from .fetch_wheels import WheelFetchError, fetch_all
from .manifest import REPO_ROOT, load_manifest


class ExtensionBuildError(RuntimeError):
    """Building or validating the extension failed."""


def blender_ext_script() -> Path:
    """Return the path of ``blender_ext.py`` inside the installed bpy package."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionBuildError(
            "the bpy package is not installed; run `make venv` (pip install -e '.[dev]')"
        )
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
        if found:
            return found[-1]
    raise ExtensionBuildError(
        "bpy is installed but has no scripts/addons_core/bl_pkg/cli/blender_ext.py"
    )


def host_platform() -> str:
    """Name this machine's platform exactly as Blender's extension tool does (e.g. linux-x64)."""
    spec = importlib.util.spec_from_file_location("blender_ext", blender_ext_script())
    blender_ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(blender_ext)  # a plain module: nothing runs outside __main__
    return blender_ext.platform_from_this_system()


def run_blender_ext(*args: str) -> str:
    """Run ``blender_ext.py`` with ``args``; return its output or raise with it."""
    command = [sys.executable, str(blender_ext_script()), *args]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    output = (run.stdout + run.stderr).strip()
    if run.returncode != 0:
        raise ExtensionBuildError(f"{' '.join(args[:1])} failed (exit {run.returncode}):\n{output}")
    return output


def expected_zip_names(manifest: dict) -> dict[str, str]:
    """Map each platform to the zip name ``build --split-platforms`` gives it."""
    base = f"{manifest['id']}-{manifest['version']}"
    return {
        platform: f"{base}-{platform.replace('-', '_')}.zip" for platform in manifest["platforms"]
    }


def build(output_dir: Path) -> list[Path]:
    """Fetch wheels, build one zip per platform into ``output_dir``, validate each."""
    manifest = load_manifest()
    fetch_all()
    output_dir.mkdir(parents=True, exist_ok=True)
    expected = [output_dir / name for name in expected_zip_names(manifest).values()]
    for stale in expected:
        stale.unlink(missing_ok=True)
    print(
        run_blender_ext(
            "build",
            "--source-dir",
            str(REPO_ROOT),
            "--output-dir",
            str(output_dir),
            "--split-platforms",
        )
    )
    missing = [path.name for path in expected if not path.is_file()]
    if missing:
        raise ExtensionBuildError(f"the build did not produce {', '.join(missing)}")
    for path in expected:
        run_blender_ext("validate", str(path))
        print(f"validated: {path}")
    return expected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=REPO_ROOT / "dist",
        help="where the zips go (default: dist/)",
    )
    args = parser.parse_args()
    try:
        build(args.output_dir.resolve())
    except (ExtensionBuildError, WheelFetchError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
