# SPDX-License-Identifier: GPL-3.0-or-later
"""The sample city as a file for the UI: written into Blender's session temp folder."""

import tempfile
from pathlib import Path

import bpy

from ..route.sample_city import SampleCity, write_sample_city

FILE_NAME = "leanroute-sample-city.osm"


def sample_city_path() -> Path:
    """Where the UI keeps the sample city: Blender's temp folder for this session."""
    return Path(bpy.app.tempdir or tempfile.gettempdir()) / FILE_NAME


def sample_city() -> SampleCity:
    """Write the sample city (always the same bytes) and describe it; about 30 ms."""
    return write_sample_city(sample_city_path())
