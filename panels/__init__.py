# SPDX-License-Identifier: GPL-3.0-or-later
"""The LeanRoute tab in the 3D View sidebar (N-panel)."""

import bpy

from .main_panel import LEANROUTE_PT_main

# Registered in this order, unregistered in reverse.
classes = (LEANROUTE_PT_main,)

register, unregister = bpy.utils.register_classes_factory(classes)
