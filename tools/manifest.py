"""Read the extension manifest (``blender_manifest.toml``) at the repository root."""

import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = REPO_ROOT / "blender_manifest.toml"


def load_manifest(path: Path = MANIFEST_PATH) -> dict:
    """Return the parsed manifest."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


def wheel_paths(manifest: dict, root: Path = REPO_ROOT) -> list[Path]:
    """Return the absolute paths of the wheels the manifest lists."""
    return [(root / entry).resolve() for entry in manifest.get("wheels", [])]
