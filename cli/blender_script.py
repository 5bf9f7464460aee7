# SPDX-License-Identifier: GPL-3.0-or-later
"""LeanRoute's command line inside Blender: ``blender -b --python cli/blender_script.py -- ARGS``.

The checkout's folder need not be called ``leanroute``: the package is loaded from this
file's location under that name. Exits with the command's exit code.
"""

import importlib.util
import sys
from pathlib import Path


def _load_package():
    if "leanroute" in sys.modules:
        return sys.modules["leanroute"]
    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location(
        "leanroute", root / "__init__.py", submodule_search_locations=[str(root)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["leanroute"] = module
    spec.loader.exec_module(module)
    return module


def _arguments() -> list[str]:
    argv = sys.argv
    return argv[argv.index("--") + 1 :] if "--" in argv else []


if __name__ == "__main__":
    _load_package()
    from leanroute.route.interrupts import signals_handled

    # Blender's own handlers take Ctrl+C until here (docs/route.md, "Interrupting a build");
    # from here on LeanRoute's, left recording after main() so Blender's exit is not cut.
    with signals_handled(restore=False):
        from leanroute.cli.commands import main

        code = main(_arguments(), prog="blender -b --python blender_script.py --")
    sys.exit(code)
