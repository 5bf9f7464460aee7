# SPDX-License-Identifier: GPL-3.0-or-later
"""Progress reporting, checkpoints and report files for batch runs.

Filled in by the batch issue. Plain Python: no bpy.
"""
