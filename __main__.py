# SPDX-License-Identifier: GPL-3.0-or-later
"""``python -m leanroute build|demo …`` (with the ``bpy`` module installed)."""

import sys

from .cli.commands import main

sys.exit(main())
