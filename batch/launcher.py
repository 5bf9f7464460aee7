"""How to start a fresh process like this one: for workers, and to restart after the breaker.

Under the ``bpy`` module a worker is ``python cli/blender_script.py -- ARGS``; inside the
Blender executable it is ``blender -b --factory-startup [the open .blend] --python
cli/blender_script.py -- ARGS``, so workers build into the same template file.
"""

import os
import shutil
import sys
from pathlib import Path

import bpy

SCRIPT = Path(__file__).resolve().parent.parent / "cli" / "blender_script.py"


def worker_command(arguments: list[str]) -> list[str]:
    """The command line of a worker process running LeanRoute's CLI with *arguments*."""
    if not bpy.app.binary_path:
        return [sys.executable, str(SCRIPT), "--", *arguments]
    template = [bpy.data.filepath] if bpy.data.filepath else []
    return [
        bpy.app.binary_path,
        "-b",
        "--factory-startup",
        *template,
        "--python",
        str(SCRIPT),
        "--",
        *arguments,
    ]


def restart_process(restarts: int) -> None:
    """Replace this process by a fresh run of the same command line (never returns).

    The new process reads the checkpoint and goes on with the jobs left. Blender's own
    temporary folder would be left behind by ``exec``, so it goes first.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    if bpy.app.tempdir and Path(bpy.app.tempdir).is_dir():
        shutil.rmtree(bpy.app.tempdir, ignore_errors=True)
    if bpy.app.binary_path:
        program, argv = bpy.app.binary_path, [bpy.app.binary_path, *sys.argv[1:]]
    else:
        program, argv = sys.executable, list(sys.orig_argv)
        argv[0] = sys.executable
    env = {**os.environ, "LEANROUTE_BATCH_RESTARTS": str(restarts)}
    os.execve(program, argv, env)
