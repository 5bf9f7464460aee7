"""How much memory each build stage will need, estimated from the input's size (plain Python).

A stage's forecast is the RSS growth above the RSS at its start that it is expected to reach
at its peak. The build checks it against the hard budget before the stage starts, so a build
that would not fit says so up front instead of after the machine has started to swap.

What is known grows as the build goes: before the parse only the file's size; after it the
counts of nodes, highway ways and building nodes; after the route its length, hence the
animation's frames. Every stage is estimated from the best of these available.

The coefficients come from ``bench/scale_bench.py`` (generated cities of 1 k to 100 k
buildings, each stage's peak growth per unit, in ``docs/benchmarks.md``) and the real
extracts, rounded up by about a quarter: a forecast should be a little above what the stage
really takes, so that it refuses only builds that would not fit.
"""

from dataclasses import dataclass, replace

from ..memory.budget import StageForecast
from ..memory.units import format_bytes
from .errors import InputFileError
from .input_files import check_input_file

MIB = 1 << 20

#: Parse: bytes of RSS growth per byte of OSM XML (the result and expat's buffers).
PARSE_PER_FILE_BYTE = 2.2
#: Project: bytes per node (the (N, 2) float64 result, its column copies) plus the
#: series' temporaries, which are bounded because the projection works in chunks.
PROJECT_PER_NODE = 40
PROJECT_FIXED = 24 * MIB
#: Route: the road graph and its grid index, per node of the file (an upper bound: only
#: highway nodes enter it).
ROUTE_PER_NODE = 32
#: Roads: per node of a highway way (lines, ribbons, the Blender mesh).
ROADS_PER_HIGHWAY_NODE = 600
#: Buildings: per node of a building way (packed rings, footprints, walls and roofs as
#: arrays, and the Blender mesh they are written into).
BUILDINGS_PER_BUILDING_NODE = 420
#: Animation: per frame of the drive (keyframes of the car and the camera).
ANIMATION_PER_FRAME = 2000
#: Every stage: what any stage may allocate whatever the input (boundaries, depsgraph).
STAGE_FIXED = 8 * MIB


@dataclass(frozen=True)
class InputSize:
    """What is known of a build's input: the file's size, then counts as stages find them."""

    file_bytes: int
    nodes: "int | None" = None
    highway_nodes: "int | None" = None
    building_nodes: "int | None" = None
    buildings: "int | None" = None
    frames: "int | None" = None


def size_of_file(path) -> InputSize:
    """The input size known before the parse: the file's bytes (0 if it cannot be read)."""
    try:
        # A FIFO or device has no size to forecast from (and must not be opened).
        return InputSize(check_input_file(path, "an OSM file").stat().st_size)
    except (OSError, InputFileError):
        return InputSize(0)  # the parse stage names the problem


def count_input(osm, file_bytes: int) -> InputSize:
    """The counts of parsed OSM data that the later stages' memory depends on."""
    highway_nodes = building_nodes = buildings = 0
    for way in osm.ways.values():
        tags = way.tags
        if "highway" in tags:
            highway_nodes += len(way.refs)
        elif tags.get("building", "no") != "no":
            building_nodes += len(way.refs)
            buildings += 1
    for relation in osm.relations.values():
        if relation.tags.get("building", "no") != "no":
            buildings += 1
            for member in relation.members:
                way = osm.ways.get(member.ref) if member.type == "way" else None
                if way is not None and not way.tags:  # rings of their own, not counted above
                    building_nodes += len(way.refs)
    return InputSize(
        file_bytes,
        nodes=len(osm.nodes),
        highway_nodes=highway_nodes,
        building_nodes=building_nodes,
        buildings=buildings,
    )


def with_frames(size: InputSize, frames: int) -> InputSize:
    """*size* once the route is known: the animation's frame count."""
    return replace(size, frames=max(int(frames), 0))


def forecast(stage: str, size: InputSize) -> "StageForecast | None":
    """The expected RSS growth of *stage* for an input of *size*; None when nothing is known."""
    if stage == "parse":
        if not size.file_bytes:
            return None
        need = PARSE_PER_FILE_BYTE * size.file_bytes
        basis = f"a {format_bytes(size.file_bytes)} OSM file"
    elif stage in ("project", "route") and size.nodes is not None:
        per_node = PROJECT_PER_NODE if stage == "project" else ROUTE_PER_NODE
        need = per_node * size.nodes + (PROJECT_FIXED if stage == "project" else 0)
        basis = f"{size.nodes:,} nodes"
    elif stage == "roads" and size.highway_nodes is not None:
        need = ROADS_PER_HIGHWAY_NODE * size.highway_nodes
        basis = f"{size.highway_nodes:,} nodes of highway ways"
    elif stage == "buildings" and size.building_nodes is not None:
        need = BUILDINGS_PER_BUILDING_NODE * size.building_nodes
        basis = f"{size.buildings:,} buildings with {size.building_nodes:,} nodes"
    elif stage == "animation" and size.frames is not None:
        need = ANIMATION_PER_FRAME * size.frames
        basis = f"{size.frames:,} frames of animation"
    else:
        return None
    return StageForecast(int(need) + STAGE_FIXED, f"estimated from {basis}")
