# SPDX-License-Identifier: GPL-3.0-or-later
"""The route pipeline: OSM file -> parse -> project -> route -> geometry -> animation -> save.

Filled in by the route/ issue. Parsing, projection, routing and geometry are plain
Python/numpy and never import bpy; a thin layer writes the results to Blender.
"""
