"""Simple materials for the build: one Principled BSDF colour each, viewport colour to match."""

import bpy

# name -> (base colour RGBA, roughness)
PALETTE = {
    "ground": ((0.32, 0.36, 0.30, 1.0), 0.95),
    "road major": ((0.12, 0.12, 0.13, 1.0), 0.8),
    "road minor": ((0.20, 0.20, 0.21, 1.0), 0.8),
    "road service": ((0.28, 0.28, 0.29, 1.0), 0.85),
    "road path": ((0.55, 0.50, 0.42, 1.0), 0.9),
    "building": ((0.78, 0.74, 0.68, 1.0), 0.7),
    "route": ((1.0, 0.45, 0.05, 1.0), 0.4),
    "car body": ((0.80, 0.05, 0.05, 1.0), 0.3),
    "car glass": ((0.05, 0.07, 0.10, 1.0), 0.1),
    "car tyre": ((0.02, 0.02, 0.02, 1.0), 0.9),
}


def make_material(name: str, prefix: str = "LeanRoute") -> "bpy.types.Material":
    """A new material named ``"<prefix> <name>"`` coloured from :data:`PALETTE`."""
    colour, roughness = PALETTE[name]
    material = bpy.data.materials.new(f"{prefix} {name}")
    material.diffuse_color = colour
    material.roughness = roughness
    if material.node_tree is None:  # Blender < 5.0 creates materials without nodes
        material.use_nodes = True
    bsdf = next((n for n in material.node_tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
    if bsdf is not None:
        bsdf.inputs["Base Color"].default_value = colour
        bsdf.inputs["Roughness"].default_value = roughness
    return material
