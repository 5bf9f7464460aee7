# SPDX-License-Identifier: GPL-3.0-or-later
"""LeanRoute's command line: ``python -m leanroute``, ``blender -b --python``, ``blender -c``.

All three end in :func:`.commands.main`, which returns the process exit code.
"""
