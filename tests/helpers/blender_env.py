"""An isolated Blender user environment in which the repository is a legacy add-on.

The binary lane and the CLI tests point Blender's user folders at a scratch
directory, so they neither read nor write the developer's own preferences, and
make the checkout loadable as the add-on ``leanroute`` through a symlink.
"""

import os
from pathlib import Path

from .paths import REPO_ROOT

ADDON_NAME = "leanroute"


def isolated_blender_env(base: Path) -> dict[str, str]:
    """Create user folders under ``base``; return os.environ updated to use them."""
    scripts, config, extensions = base / "scripts", base / "config", base / "extensions"
    addons = scripts / "addons"
    for folder in (addons, config, extensions):
        folder.mkdir(parents=True, exist_ok=True)
    link = addons / ADDON_NAME
    if not link.exists():
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    return {
        **os.environ,
        "BLENDER_USER_SCRIPTS": str(scripts),
        "BLENDER_USER_CONFIG": str(config),
        "BLENDER_USER_EXTENSIONS": str(extensions),
    }
