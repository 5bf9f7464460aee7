# SPDX-License-Identifier: GPL-3.0-or-later
"""Memory hygiene: BMesh scopes, stage boundaries, budgets, bounded caches, leak checks.

Filled in by the memory/ issue. Core parts of this package stay importable without bpy.
"""
