"""How much memory each build stage will need, estimated from the input's size (plain Python).

A stage's forecast is the RSS growth above the RSS at its start that it is expected to reach
at its peak. The build checks it against the hard budget before the stage starts, so a build
that would not fit says so up front instead of after the machine has started to swap.

What is known grows as the build goes: before the parse only the files' sizes (OSM and GPX);
after it the counts of nodes, highway ways, building nodes, the nodes of roofs large enough
for the costly triangulation and the track's points; after the route its length, hence the
animation's frames (and the save, whose scene evaluation copies the keyframes). Every stage
is estimated from the best of these available.

The coefficients come from ``bench/scale_bench.py`` (generated cities of 1 k to 100 k
buildings, each stage's peak growth per unit, in ``docs/benchmarks.md``), the real extracts
and files made to be costly (a relation of 100,000 members, 12,000-node courtyards, 16,000
courtyards in one roof, a 400,000-frame drive), rounded up: a forecast should be a little
above what the stage really takes, so that it refuses only builds that would not fit.
"""

from dataclasses import dataclass, replace

from ..memory.budget import StageForecast
from ..memory.units import format_bytes
from .building_geometry import is_large_roof
from .errors import InputFileError
from .input_files import check_input_file
from .multipolygon import is_building_relation
from .roof_strips import STRIP_POINTS, TRIANGULATION_BYTES_PER_POINT

MIB = 1 << 20

#: Parse: bytes of RSS growth per byte of OSM XML (the result and expat's buffers): 0.3-0.8
#: for the real extracts, 1.6 for generated cities, 3.4 for a relation of 100,000 short
#: member ways, 3.9-4.7 for files of 2-node highways with one to ten unique tags each (a
#: way costs a few hundred bytes whatever its text). The parse is also guarded while it runs
#: (Stage.bounded_allocations), should a layout cost more.
PARSE_PER_FILE_BYTE = 5.0
#: Parse: per byte of GPX (the points, their times and lines): measured up to 3.0.
GPX_PER_FILE_BYTE = 4.0
#: Project: bytes per node (the (N, 2) float64 result, its column copies) plus the
#: series' temporaries, which are bounded because the projection works in chunks.
PROJECT_PER_NODE = 40
PROJECT_FIXED = 24 * MIB
#: Route: the road graph and its grid index, per node of the file (an upper bound: only
#: highway nodes enter it).
ROUTE_PER_NODE = 32
#: Route: per point of a GPX track (cleaning, smoothing, the map matcher's candidates).
ROUTE_PER_TRACK_POINT = 2048
#: Roads: per node of a highway way (lines, ribbons, the Blender mesh).
ROADS_PER_HIGHWAY_NODE = 600
#: Buildings: per node of a building way (packed rings, footprints, walls and roofs as
#: arrays, and the Blender mesh they are written into).
BUILDINGS_PER_BUILDING_NODE = 420
#: Buildings: per node of a roof with holes too large for the quick filler (its triangles as
#: arrays and in the mesh: measured 110-370 bytes more than a wall's node, a strip's peak
#: included), plus the peak of one strip's triangulation (roof_strips), twice for cut points
#: and crossings.
LARGE_ROOF_PER_NODE = 512
LARGE_ROOF_FIXED = 2 * STRIP_POINTS * TRIANGULATION_BYTES_PER_POINT
#: Animation: per frame of the drive (keyframes of the car and the camera): measured 840.
ANIMATION_PER_FRAME = 2000
#: Save: per frame of the drive, the evaluated copies of the actions the scene evaluation
#: makes before the file is written (measured 710), and per point of the route, its bevelled
#: curve's evaluated mesh (measured 1.9-2.3 KiB).
SAVE_PER_FRAME = 1000
SAVE_PER_ROUTE_POINT = 3 * 1024
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
    #: The GPX file's size (0 without one), then its points once read.
    gpx_bytes: int = 0
    track_points: "int | None" = None
    #: Nodes of building relations whose roofs take the costly triangulation.
    large_roof_nodes: "int | None" = None
    #: Points of the route found (its curve), once the route is known.
    route_points: "int | None" = None


def size_of_file(path) -> InputSize:
    """The input size known before the parse: the file's bytes (0 if it cannot be read)."""
    try:
        # A FIFO or device has no size to forecast from (and must not be opened).
        return InputSize(check_input_file(path, "an OSM file").stat().st_size)
    except (OSError, InputFileError):
        return InputSize(0)  # the parse stage names the problem


def size_of_inputs(osm_path, gpx_path=None) -> InputSize:
    """The input size known before the parse: the OSM file's bytes and the GPX file's."""
    size = size_of_file(osm_path)
    if gpx_path is None:
        return size
    return replace(size, gpx_bytes=size_of_file(gpx_path).file_bytes)


def count_input(osm, known: "InputSize | int") -> InputSize:
    """The counts of parsed OSM data that the later stages' memory depends on.

    *known* is what was known before the parse (or the OSM file's bytes).
    """
    if not isinstance(known, InputSize):
        known = InputSize(int(known))
    highway_nodes = building_nodes = buildings = large_roof_nodes = 0
    for way in osm.ways.values():
        tags = way.tags
        if "highway" in tags:
            highway_nodes += len(way.refs)
        elif tags.get("building", "no") != "no":
            building_nodes += len(way.refs)
            buildings += 1
    for relation in osm.relations.values():
        if not is_building_relation(relation, osm):
            continue
        buildings += relation.tags.get("building", "no") != "no"  # old style: its way counted
        nodes = rings = 0
        holes = False
        for member in relation.members:
            way = osm.ways.get(member.ref) if member.type == "way" else None
            if way is None:
                continue
            nodes, rings, holes = nodes + len(way.refs), rings + 1, holes or member.role == "inner"
            if not way.tags:  # rings of their own, not counted above
                building_nodes += len(way.refs)
        # Pieces of rings count as rings here: an upper bound, as a forecast needs.
        if holes and is_large_roof(nodes, rings):
            large_roof_nodes += nodes
    return replace(
        known,
        nodes=len(osm.nodes),
        highway_nodes=highway_nodes,
        building_nodes=building_nodes,
        buildings=buildings,
        large_roof_nodes=large_roof_nodes,
    )


def with_track(size: InputSize, points: int) -> InputSize:
    """*size* once the GPX track is read: its point count."""
    return replace(size, track_points=max(int(points), 0))


def with_frames(size: InputSize, frames: int, route_points: "int | None" = None) -> InputSize:
    """*size* once the route is known: the animation's frame count and the route's points."""
    points = size.route_points if route_points is None else max(int(route_points), 0)
    return replace(size, frames=max(int(frames), 0), route_points=points)


def forecast(stage: str, size: InputSize) -> "StageForecast | None":
    """The expected RSS growth of *stage* for an input of *size*; None when nothing is known."""
    if stage == "parse":
        if not size.file_bytes:
            return None
        need = PARSE_PER_FILE_BYTE * size.file_bytes + GPX_PER_FILE_BYTE * size.gpx_bytes
        basis = f"a {format_bytes(size.file_bytes)} OSM file"
        if size.gpx_bytes:
            basis += f" and a {format_bytes(size.gpx_bytes)} GPX file"
    elif stage == "project" and size.nodes is not None:
        need = PROJECT_PER_NODE * size.nodes + PROJECT_FIXED
        basis = f"{size.nodes:,} nodes"
    elif stage == "route" and size.nodes is not None:
        points = size.track_points or 0
        need = ROUTE_PER_NODE * size.nodes + ROUTE_PER_TRACK_POINT * points
        basis = f"{size.nodes:,} nodes" + (f" and {points:,} track points" if points else "")
    elif stage == "roads" and size.highway_nodes is not None:
        need = ROADS_PER_HIGHWAY_NODE * size.highway_nodes
        basis = f"{size.highway_nodes:,} nodes of highway ways"
    elif stage == "buildings" and size.building_nodes is not None:
        large = size.large_roof_nodes or 0
        need = BUILDINGS_PER_BUILDING_NODE * size.building_nodes + LARGE_ROOF_PER_NODE * large
        need += LARGE_ROOF_FIXED if large else 0
        basis = f"{size.buildings:,} buildings with {size.building_nodes:,} nodes"
        if large:
            basis += f", {large:,} of them in large roofs with courtyards"
    elif stage == "animation" and size.frames is not None:
        need = ANIMATION_PER_FRAME * size.frames
        basis = f"{size.frames:,} frames of animation"
    elif stage == "save" and size.frames is not None:
        points = size.route_points or 0
        need = SAVE_PER_FRAME * size.frames + SAVE_PER_ROUTE_POINT * points
        basis = f"{size.frames:,} frames of animation" + (
            f" and a route of {points:,} points" if points else ""
        )
    else:
        return None
    return StageForecast(int(need) + STAGE_FIXED, f"estimated from {basis}")
