"""Where things are: the repository, the shared data, the blender executable."""

import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS_DIR = REPO_ROOT / "tests"
SCRIPTS_DIR = TESTS_DIR / "scripts"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def blender_executable() -> str | None:
    """Return the blender binary to test with: $BLENDER_EXECUTABLE, else `blender` on PATH."""
    configured = os.environ.get("BLENDER_EXECUTABLE")
    if configured:
        return configured
    return shutil.which("blender")
