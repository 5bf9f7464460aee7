"""Download the wheels that ``blender_manifest.toml`` lists into ``wheels/``.

The manifest is the single source of truth: each entry is an exact wheel file
name, and this tool asks pip for exactly that distribution, version and
platform. Wheels are build inputs, never committed.

Usage (from the repository root): python -m tools.fetch_wheels
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from .manifest import load_manifest, wheel_paths


class WheelFetchError(RuntimeError):
    """A wheel the manifest names could not be fetched as named."""


def parse_wheel_name(filename: str) -> dict:
    """Split a wheel file name into its PEP 427 parts (no build tag expected)."""
    stem = filename.removesuffix(".whl")
    parts = stem.split("-")
    if len(parts) != 5:
        raise WheelFetchError(f"{filename}: expected name-version-python-abi-platform.whl")
    name, version, python_tag, abi_tag, platform_tag = parts
    return {
        "name": name,
        "version": version,
        "python_tags": python_tag.split("."),
        "abi_tags": abi_tag.split("."),
        "platform_tags": platform_tag.split("."),
    }


def pip_download_command(filename: str, dest: Path) -> list[str]:
    """Return the pip command that downloads exactly the wheel ``filename``."""
    wheel = parse_wheel_name(filename)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        "3.11",  # Blender 4.2-5.x embeds Python 3.11
        "--dest",
        str(dest),
    ]
    for platform in wheel["platform_tags"]:
        command += ["--platform", platform]
    for abi in wheel["abi_tags"]:
        command += ["--abi", abi]
    command.append(f"{wheel['name']}=={wheel['version']}")
    return command


def fetch_wheel(target: Path) -> None:
    """Download ``target`` (a path ending in the wheel's exact file name)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="leanroute-wheel-") as tmp:
        tmp_dir = Path(tmp)
        run = subprocess.run(
            pip_download_command(target.name, tmp_dir),
            capture_output=True,
            text=True,
            check=False,
        )
        got = sorted(p.name for p in tmp_dir.glob("*.whl"))
        if run.returncode != 0 or got != [target.name]:
            raise WheelFetchError(
                f"could not fetch {target.name} (pip exit {run.returncode}, got {got}):\n"
                f"{run.stderr.strip()}"
            )
        # Same filesystem as the final folder is not guaranteed: copy, then rename.
        partial = target.with_suffix(".whl.part")
        partial.write_bytes((tmp_dir / target.name).read_bytes())
        partial.replace(target)


def fetch_all() -> list[Path]:
    """Fetch every wheel the manifest lists that is not in ``wheels/`` yet."""
    paths = wheel_paths(load_manifest())
    for path in paths:
        if path.is_file():
            print(f"wheel present: {path.name}")
            continue
        print(f"fetching wheel: {path.name}")
        fetch_wheel(path)
    return paths


def main() -> int:
    try:
        fetch_all()
    except WheelFetchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
