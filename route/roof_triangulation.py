"""Roofs with courtyards: triangulated by Blender's polygon filler (a Blender face has no holes)."""

import numpy as np
from mathutils.geometry import tessellate_polygon

from .building_geometry import triangles_to_mesh
from .mesh_arrays import MeshArrays


def holed_roof_arrays(holed_roofs) -> MeshArrays:
    """One mesh of triangles for every roof in *holed_roofs* (``HoledRoof(rings, z)``)."""
    parts = []
    for roof in holed_roofs:
        rings = [np.asarray(r, np.float64) for r in roof.rings]
        triangles = tessellate_polygon([[(float(x), float(y), 0.0) for x, y in r] for r in rings])
        if triangles:
            parts.append(triangles_to_mesh(rings, roof.z, np.asarray(triangles, np.int32)))
    return MeshArrays.concat(parts)
