"""The plain-Python modules of bench/, loaded by path (bench/ is not a package)."""

import importlib.util

from .paths import REPO_ROOT


def load_bench_module(name: str):
    """``bench/<name>.py`` as a fresh module named ``bench_<name>``."""
    path = REPO_ROOT / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
