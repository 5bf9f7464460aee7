"""The body of each build stage: plain-data steps from the core, then thin writes to Blender.

Called by :class:`.build.SceneBuild`, one stage at a time. Plain data that later stages no
longer need is dropped as soon as possible (the OSM data after the buildings stage), so the
stage boundary's gc and heap trim can give it back.
"""

import contextlib
from dataclasses import dataclass, field

import bpy
import numpy as np

from .blender_mesh import object_with_mesh
from .build_collection import (
    apply_scene_settings,
    new_build_collection,
    record_build_origin,
    record_scene_before,
    rename_to_free,
    settle_names,
)
from .build_swap import Replacement, replace_previous_builds
from .errors import InputFileError, RouteError
from .materials import make_material
from .memory_forecast import InputSize, count_input, size_of_inputs, with_frames, with_track
from .memory_forecast import forecast as stage_forecast
from .mesh_arrays import MeshArrays
from .output_commit import OutputCommit
from .settings import BuildSettings


@dataclass
class BuildState:
    """What the stages hand to each other; plain data, plus names (never bpy references)."""

    settings: BuildSettings
    scene: "bpy.types.Scene"
    token: str
    #: Remove the replaced build's data-blocks (hygiene), or only its objects (baseline).
    remove_replaced: bool = True
    results: dict = field(default_factory=dict)
    osm: object = None
    track: object = None
    projection: object = None
    xy: "np.ndarray | None" = None
    route_xy: "np.ndarray | None" = None
    box: object = None
    collection_name: str = ""
    car_name: str = ""
    camera_name: str = ""
    scene_settings: dict = field(default_factory=dict)
    #: What is known of the input's size, for the stages' memory forecasts.
    input_size: "InputSize | None" = None
    #: The output files written so far, renamed into place together when the build ends.
    outputs: OutputCommit = field(default_factory=OutputCommit)
    #: The previous builds this one replaced (save stage), until the outputs are in place.
    replacement: "Replacement | None" = None

    def forecasts(self, names) -> dict:
        """{stage: StageForecast} for those of *names* that can be estimated now."""
        if self.input_size is None:
            self.input_size = size_of_inputs(self.settings.osm, self.settings.gpx)
        found = {name: stage_forecast(name, self.input_size) for name in names}
        return {name: value for name, value in found.items() if value is not None}

    def collection(self) -> "bpy.types.Collection":
        """The collection of this build (looked up by name: references dangle after undo)."""
        return bpy.data.collections[self.collection_name]

    def remember_scene_settings(self) -> None:
        """Keep the scene settings the build changes, to restore them on failure."""
        scene = self.scene
        self.scene_settings = {
            "frame_start": scene.frame_start,
            "frame_end": scene.frame_end,
            "fps": scene.render.fps,
            "fps_base": scene.render.fps_base,
            "camera": scene.camera.name if scene.camera else None,
        }

    def restore_scene_settings(self) -> None:
        """Put back what :meth:`remember_scene_settings` kept."""
        if self.scene_settings:
            apply_scene_settings(self.scene, self.scene_settings)

    def release(self) -> None:
        """Drop the plain data (OSM, arrays) so it can be freed."""
        self.osm = self.track = self.xy = None


#: Stages that are plain Python and numpy throughout: an allocation past the hard budget
#: fails in them at once (memory/allocation_limit), instead of after one long C call.
PLAIN_STAGES = frozenset({"parse", "project", "route"})


def run_stage(name: str, state: BuildState, stage) -> None:
    """Run the stage called *name*."""
    if name in PLAIN_STAGES:
        with stage.bounded_allocations():
            STAGE_BODIES[name](state, stage)
    else:
        STAGE_BODIES[name](state, stage)


# -- plain-data stages ---------------------------------------------------------------------


def parse(state: BuildState, stage) -> None:
    """Read the OSM file (streaming) and the GPX track if there is one."""
    from .osm_parse import read_osm

    settings = state.settings
    state.osm = read_osm(settings.osm)
    osm = state.osm
    known = state.input_size or size_of_inputs(settings.osm, settings.gpx)
    state.input_size = count_input(osm, known)
    # Kept: what roads, buildings and the route need (osm_needs); the file holds more.
    state.results["osm"] = {
        "file": str(settings.osm),
        "nodes": len(osm.nodes),
        "ways": len(osm.ways),
        "relations": len(osm.relations),
        "file_nodes": osm.file_nodes,
        "file_ways": osm.file_ways,
        "file_relations": osm.file_relations,
    }
    if settings.gpx is not None:
        from .gps_glitches import drop_glitches
        from .gpx_track import read_gpx

        track = read_gpx(settings.gpx)
        # Gross GPS glitches go before the projection centre is taken from the track.
        state.track, glitches = drop_glitches(track)
        state.input_size = with_track(state.input_size, len(state.track.lat))
        state.results["gpx"] = {
            "file": str(settings.gpx),
            "points": len(track.lat),
            "glitches_dropped": glitches.count,
            "glitch_lines": [track.line_of(int(i)) for i in glitches.dropped[:20]],
        }
        if glitches.times_ignored:
            state.results["gpx"]["times_ignored"] = glitches.times_ignored


def project(state: BuildState, stage) -> None:
    """Project every node to local metres around the route's centre."""
    from .projection import LocalProjection, centre_of

    lat, lon = _route_points(state)
    centre = centre_of(np.column_stack([lat, lon]))
    state.projection = LocalProjection(*centre)
    x, y = state.projection.forward(state.osm.nodes.lat, state.osm.nodes.lon)
    state.xy = np.column_stack([x, y])
    state.results["projection"] = {"centre": [round(c, 7) for c in centre]}


def _route_points(state: BuildState) -> tuple[np.ndarray, np.ndarray]:
    if state.track is not None:
        return np.asarray(state.track.lat), np.asarray(state.track.lon)
    waypoints = np.asarray(state.settings.waypoints, np.float64)
    return waypoints[:, 0], waypoints[:, 1]


def route(state: BuildState, stage) -> None:
    """Find the route (waypoints over the road graph, or the cleaned GPX track)."""
    from .clip_box import ClipBox
    from .road_graph import RoadGraph

    settings, osm = state.settings, state.osm
    graph = RoadGraph.from_osm(osm, state.xy)
    if graph.segment_count == 0:  # the file to change is the OSM file: name it
        raise InputFileError(
            settings.osm,
            "has no drivable roads (no highway a car may use): give an OSM file that holds "
            "the streets of the route",
        )
    data_bounds = osm.data_bounds()
    if state.track is None:
        from .routing import route_waypoints

        lat, lon = _route_points(state)
        x, y = state.projection.forward(lat, lon)
        found = route_waypoints(
            graph,
            np.column_stack([x, y]),
            waypoints_latlon=list(settings.waypoints),
            max_snap_m=settings.max_snap_m,
            data_box=data_bounds,
        )
        route_xy = found.xy
        state.results["route"] = {
            "source": "waypoints",
            "length_m": round(float(found.length_m), 1),
            "waypoint_snap_m": [round(float(d), 1) for d in found.waypoint_snaps],
        }
    else:
        route_xy = _track_route(state, graph, data_bounds)
    if len(route_xy) < 2:
        raise RouteError("the route is empty: the waypoints lead nowhere")
    state.route_xy = np.asarray(route_xy, np.float64)
    length = float(np.hypot(*np.diff(state.route_xy, axis=0).T).sum())
    # Before anything is written to Blender: keys past its last frame cannot be set.
    settings.check_drive_fits(length)
    state.input_size = with_frames(
        state.input_size, settings.drive_frames(length), route_points=len(state.route_xy)
    )
    state.box = ClipBox.around(state.route_xy, settings.padding_m)
    state.results["clip_box_m"] = [round(v, 1) for v in state.box.as_tuple()]


def _track_route(state: BuildState, graph, data_bounds) -> np.ndarray:
    from .track_smoothing import clean_track, smooth_track, snap_track_to_roads

    track = state.track
    if data_bounds is not None:
        inside = [data_bounds.contains(a, b) for a, b in zip(track.lat, track.lon, strict=True)]
        if not any(inside):
            raise RouteError(
                f"the GPX track {state.settings.gpx} lies entirely outside the OSM data "
                f"({state.settings.osm})"
            )
    x, y = state.projection.forward(np.asarray(track.lat), np.asarray(track.lon))
    xy = clean_track(np.column_stack([x, y]), track.times)
    xy = smooth_track(xy)
    if state.settings.snap_gpx:
        # GPS fixes sit within metres of their road: a tight radius keeps matching fast.
        xy = snap_track_to_roads(xy, graph, min(state.settings.max_snap_m, 50.0))
    length = float(np.hypot(*np.diff(xy, axis=0).T).sum()) if len(xy) > 1 else 0.0
    state.results["route"] = {
        "source": "gpx",
        "points": len(xy),
        "snapped": state.settings.snap_gpx,
        "length_m": round(length, 1),
    }
    return xy


# -- Blender stages ------------------------------------------------------------------------


def roads(state: BuildState, stage) -> None:
    """The build's collection, and the roads as one object of ribbons (a slot per class)."""
    from .road_geometry import ROAD_GROUPS, RoadLine, collect_roads, road_mesh

    settings = state.settings
    collection = new_build_collection(state.scene, settings.collection_name, state.token)
    state.collection_name = collection.name
    record_build_origin(collection, state.projection.lat0, state.projection.lon0)
    record_scene_before(collection, state.scene, settings.collection_name, state.scene_settings)
    if "roads" not in settings.layers:
        return
    with stage.bounded_allocations():  # plain numpy up to the mesh
        found = collect_roads(state.osm, state.xy, state.box.as_tuple())
        clipped = state.box.clip_polylines([line.xy for line in found.roads])
        lines = [
            RoadLine(line.osm_id, line.highway, line.group, line.width, piece)
            for line, pieces in zip(found.roads, clipped, strict=True)
            for piece in pieces
        ]
        arrays = road_mesh(lines)
    materials = [make_material(f"road {group}") for group in ROAD_GROUPS]
    object_with_mesh("LeanRoute Roads", arrays, collection, materials, reserve=stage.reserve)
    state.results["roads"] = {**found.counts, "ribbons": len(lines), "faces": arrays.face_count}


def buildings(state: BuildState, stage) -> None:
    """Buildings extruded from their footprints, courtyards as holes, as one object."""
    from .building_geometry import building_mesh, collect_buildings
    from .roof_triangulation import holed_roofs_mesh

    settings = state.settings
    if "buildings" in settings.layers:
        with stage.bounded_allocations():  # plain numpy up to the roofs' triangulation
            found = collect_buildings(
                state.osm, state.xy, state.box.as_tuple(), default_height=settings.default_height_m
            )
            meshes = building_mesh(found.footprints)
        roofs, left_open = holed_roofs_mesh(meshes.holed_roofs, reserve=stage.reserve)
        arrays = MeshArrays.concat([meshes.walls_and_roofs, roofs])
        object_with_mesh(
            "LeanRoute Buildings",
            arrays,
            state.collection(),
            [make_material("building")],
            reserve=stage.reserve,
        )
        state.results["buildings"] = {
            **found.counts,
            "with_holes": len(meshes.holed_roofs),
            "faces": arrays.face_count,
        }
        if left_open:  # rings crossing themselves everywhere: walls without a roof
            state.results["buildings"]["roofs_left_open"] = left_open
    # Nothing after this stage needs the map itself.
    state.osm = None
    state.xy = None


def ground(state: BuildState, stage) -> None:
    """A ground plane under the clipped area."""
    if "ground" not in state.settings.layers:
        return
    min_x, min_y, max_x, max_y = state.box.as_tuple()
    z = -0.05  # just below the roads, so they never z-fight
    arrays = MeshArrays.from_faces(
        [(min_x, min_y, z), (max_x, min_y, z), (max_x, max_y, z), (min_x, max_y, z)], [(0, 1, 2, 3)]
    )
    object_with_mesh("LeanRoute Ground", arrays, state.collection(), [make_material("ground")])


def route_objects(state: BuildState, stage) -> None:
    """The route as a curve, the car and a chase camera."""
    from .car_model import append_car, procedural_car_mesh

    settings, collection = state.settings, state.collection()
    curve = bpy.data.curves.new("LeanRoute Route", "CURVE")
    curve.dimensions = "3D"
    curve.bevel_depth = 0.3
    spline = curve.splines.new("POLY")
    points = state.route_xy
    spline.points.add(len(points) - 1)
    co = np.empty((len(points), 4), np.float32)
    co[:, :2], co[:, 2], co[:, 3] = points, 0.15, 1.0
    spline.points.foreach_set("co", co.ravel())
    curve.materials.append(make_material("route"))
    collection.objects.link(bpy.data.objects.new("LeanRoute Route", curve))

    if settings.car_blend is not None:
        car = append_car(settings.car_blend, settings.car_object)
        rename_to_free(car, "LeanRoute Car")
    else:
        mesh = procedural_car_mesh("LeanRoute Car")
        for part in ("car body", "car glass", "car tyre"):
            mesh.materials.append(make_material(part))
        car = bpy.data.objects.new("LeanRoute Car", mesh)
    collection.objects.link(car)
    state.car_name = car.name

    camera_data = bpy.data.cameras.new("LeanRoute Camera")
    camera_data.lens = 32
    camera_data.clip_end = 5000
    camera = bpy.data.objects.new("LeanRoute Camera", camera_data)
    collection.objects.link(camera)
    track = camera.constraints.new("TRACK_TO")
    track.target = car
    track.track_axis = "TRACK_NEGATIVE_Z"
    track.up_axis = "UP_Y"
    state.camera_name = camera.name


def animation(state: BuildState, stage) -> None:
    """Key the car along the route at the speed, the camera behind it; set the scene to it."""
    from .animation_keys import key_channels, new_action
    from .motion import car_motion, chase_camera

    settings, scene = state.settings, state.scene
    speed_mps = settings.speed_mps
    if settings.frame_end is not None:
        speed_mps = _speed_to_end_on(state.route_xy, settings)
    with stage.bounded_allocations():  # plain numpy: a sample per frame
        motion = car_motion(
            state.route_xy,
            speed_mps=speed_mps,
            fps=settings.fps,
            frame_start=settings.frame_start,
        )
        path = chase_camera(motion)
    car = bpy.data.objects[state.car_name]
    camera = bpy.data.objects[state.camera_name]
    action = new_action(car, "LeanRoute Car motion")
    key_channels(action, car, "location", motion.frames, motion.positions)
    rotation = np.zeros((len(motion.frames), 3), np.float32)
    rotation[:, 2] = motion.headings
    key_channels(action, car, "rotation_euler", motion.frames, rotation)
    key_channels(
        new_action(camera, "LeanRoute Camera motion"),
        camera,
        "location",
        motion.frames,
        path.positions,
    )

    stage.on_rollback(state.restore_scene_settings)
    scene.render.fps, scene.render.fps_base = settings.fps, 1.0
    scene.frame_start, scene.frame_end = int(motion.frames[0]), int(motion.frames[-1])
    scene.camera = camera
    state.results["animation"] = {
        "frames": [int(motion.frames[0]), int(motion.frames[-1])],
        "seconds": round(len(motion.frames) / settings.fps, 2),
        "speed_kmh": round(speed_mps * 3.6, 2),
    }


def _speed_to_end_on(route_xy, settings: BuildSettings) -> float:
    """The speed (m/s) at which the drive ends exactly on ``settings.frame_end``."""
    from .motion import route_polyline

    _, distance = route_polyline(route_xy)
    span = settings.frame_end - settings.frame_start
    # A hair faster than exact, so rounding never adds a frame after frame_end.
    return float(distance[-1]) * settings.fps / span * (1 + 1e-9)


def save(state: BuildState, stage) -> None:
    """Replace the previous build, then write the .blend under a temporary name.

    The build's end renames the file into place; until then a failure puts the previous
    build back (:mod:`.build_swap`).
    """
    from .blend_save import save_blend_copy
    from .blend_size import estimate_blend_bytes

    state.release()
    _replace_previous(state, stage)
    out = state.settings.out
    if out is None:
        return
    with (
        stage.foreign_code(),
        state.outputs.writing(out, needed=estimate_blend_bytes) as temporary,
    ):
        save_blend_copy(temporary, out)
    state.results["out"] = {"path": str(out), "bytes": temporary.stat().st_size}


def _replace_previous(state: BuildState, stage) -> None:
    """Swap the previous builds of this name for this one (everything else is in place)."""
    from .interrupts import deferred

    settings, scene = state.settings, state.scene
    new = state.collection()
    car, camera = bpy.data.objects[state.car_name], bpy.data.objects[state.camera_name]
    back_up = settings.out is not None
    # Without an output nothing can fail after the swap: let no signal cut it in half.
    with contextlib.nullcontext() if back_up else deferred():
        replacement = replace_previous_builds(
            scene,
            new,
            settings.collection_name,
            objects_only=not state.remove_replaced,
            back_up=back_up,
            started=lambda started: setattr(state, "replacement", started),
        )
        settle_names(new, settings.collection_name)
    state.collection_name = new.name
    state.car_name, state.camera_name = car.name, camera.name
    removal = replacement.removal if replacement is not None else None
    state.results["replaced_previous_build"] = dict(removal.removed) if removal else {}
    if removal is not None and (removal.adopted or removal.kept_for_user):
        # The user's data still used these: kept, untagged (see docs/memory.md).
        state.results["kept_for_user"] = dict(removal.adopted + removal.kept_for_user)
    # Evaluate now: the dependency graph drops its copies of the replaced build only when
    # it next evaluates, and until then they hold as much memory as the build itself.
    with stage.foreign_code():
        scene.frame_set(scene.frame_start)
    state.results["collection"] = new.name


STAGE_BODIES = {
    "parse": parse,
    "project": project,
    "route": route,
    "roads": roads,
    "buildings": buildings,
    "ground": ground,
    "route objects": route_objects,
    "animation": animation,
    "save": save,
}
