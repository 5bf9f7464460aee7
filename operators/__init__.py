# SPDX-License-Identifier: GPL-3.0-or-later
"""LeanRoute operators (build, clear, memory tools). None are registered yet."""

import bpy

# Registered in this order, unregistered in reverse.
classes = ()

register, unregister = bpy.utils.register_classes_factory(classes)
