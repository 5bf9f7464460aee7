# SPDX-License-Identifier: GPL-3.0-or-later
"""``python -m leanroute build|demo …`` (with the ``bpy`` module installed)."""

import sys

from .route.interrupts import signals_handled

# First, so Ctrl+C or SIGTERM during the imports below is only recorded (main() reports
# it), and left recording after main(): a late one cannot cut the interpreter's exit short.
with signals_handled(restore=False):
    from .cli.commands import main

    code = main()
sys.exit(code)
