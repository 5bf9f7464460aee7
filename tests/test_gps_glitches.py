"""GPS glitches in a GPX track: dropped (and counted) before the scene is placed, or refused."""

import bpy
import numpy as np
import pytest
from helpers.paths import SHARED_DATA
from helpers.scene import fingerprint

from leanroute.progress.build_summary import one_line, summary_lines
from leanroute.route.build import SceneBuild
from leanroute.route.errors import InputFileError
from leanroute.route.gps_glitches import drop_glitches, find_glitches
from leanroute.route.gpx_track import read_gpx
from leanroute.route.osm_parse import read_osm
from leanroute.route.projection import LocalProjection
from leanroute.route.road_graph import RoadGraph
from leanroute.route.routing import route_waypoints
from leanroute.route.sample_city import write_sample_city
from leanroute.route.settings import BuildSettings

GPX_DIR = SHARED_DATA / "gpx"
HEADER_LINES = 2  # points start on line 3 of the files written here


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return write_sample_city(tmp_path_factory.mktemp("city") / "sample.osm")


@pytest.fixture(scope="module")
def drive(city):
    """(lat, lon) of a drive through the sample city's waypoints: one fix every 10 m."""
    osm = read_osm(city.path)
    projection = LocalProjection(*city.waypoints[0])
    x, y = projection.forward(osm.nodes.lat, osm.nodes.lon)
    graph = RoadGraph.from_osm(osm, np.column_stack([x, y]))
    wx, wy = projection.forward(*np.asarray(city.waypoints).T)
    route = route_waypoints(graph, np.column_stack([wx, wy]))
    along = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(route.xy, axis=0).T))])
    samples = np.arange(0, along[-1], 10.0)
    xy = np.column_stack([np.interp(samples, along, route.xy[:, i]) for i in (0, 1)])
    lat, lon = projection.inverse(xy[:, 0], xy[:, 1])
    return np.asarray(lat), np.asarray(lon)


def write_gpx(path, lat, lon, times=True, *, stamps=None):
    """A GPX 1.1 track, one point a line from line 3, a fix a second unless *stamps* given."""
    points = []
    for i, (a, b) in enumerate(zip(lat, lon, strict=True)):
        when = ""
        if times:
            stamp = (
                stamps[i] if stamps is not None else f"2024-05-01T10:{i // 60:02d}:{i % 60:02d}Z"
            )
            when = f"<time>{stamp}</time>"
        points.append(f'<trkpt lat="{a:.8f}" lon="{b:.8f}">{when}</trkpt>')
    path.write_text(
        '<?xml version="1.0"?>\n<gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n'
        + "\n".join(points)
        + "\n</trkseg></trk></gpx>\n"
    )
    return path


#: name -> (indices of the points replaced, where they go: (lat, lon) or None for spread).
GLITCHES = {
    "null island first": ([0], (0.0, 0.0)),
    "null island middle": ([60], (0.0, 0.0)),
    "null island last": ([-1], (0.0, 0.0)),
    "north pole at 180": ([45], (90.0, 180.0)),
    "antipode": ([30], (-45.01, 150.0)),
    "5,000 km away": ([70], (45.0 - 44.96, -30.0)),  # due south, 5,000 km
    "three in a row": ([50, 51, 52], (0.0, 0.0)),
    "three spread apart, in a row": ([20, 21, 22], None),
    "first and last": ([0, -1], (0.0, 0.0)),
}


def glitched(lat, lon, name):
    lat, lon = lat.copy(), lon.copy()
    indices, where = GLITCHES[name]
    for k, index in enumerate(indices):
        lat[index], lon[index] = where if where is not None else (-60.0 + 40 * k, 100.0 + 20 * k)
    return lat, lon, sorted(i % len(lat) for i in indices)


# ---- the check on its own ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["liverpool_ride.gpx", "visnjan_drive.gpx"])
def test_real_recordings_lose_no_point(name):
    track = read_gpx(GPX_DIR / name)
    kept, check = drop_glitches(track)
    assert check.count == 0 and not check.times_ignored
    assert kept is track
    # Judged by position alone, too.
    assert find_glitches(track.lat, track.lon, None).count == 0


@pytest.mark.parametrize("timed", [True, False], ids=["with times", "without times"])
@pytest.mark.parametrize("name", GLITCHES)
def test_each_kind_of_glitch_is_found(drive, name, timed):
    lat, lon, bad = glitched(*drive, name)
    times = np.arange(len(lat), dtype=float) if timed else None
    check = find_glitches(lat, lon, times)
    assert check.dropped.tolist() == bad
    assert check.keep.tolist() == [i for i in range(len(lat)) if i not in bad]


@pytest.mark.parametrize(
    ("change", "dropped"),
    [
        ("one wild time, later", [40]),
        ("one wild time, earlier", [40]),
        ("duplicated timestamps", []),
        ("one point twice", []),
    ],
)
def test_times_out_of_order_are_glitches_and_equal_times_are_not(drive, change, dropped):
    lat, lon = drive
    times = np.arange(len(lat), dtype=float)
    if change == "one wild time, later":
        times[40] = 3e9  # in 2119
    elif change == "one wild time, earlier":
        times[40] = -1e9
    elif change == "duplicated timestamps":
        times[10:20] = times[10]
    else:
        lat, lon, times = (np.insert(a, 30, a[30]) for a in (lat, lon, times))
    assert find_glitches(lat, lon, times).dropped.tolist() == dropped


def test_times_all_out_of_order_are_ignored_not_the_points(drive):
    lat, lon = drive
    check = find_glitches(lat, lon, np.arange(len(lat), dtype=float)[::-1])
    assert check.count == 0
    assert "out of order: the track is judged by position alone" in check.times_ignored


def test_two_far_apart_recordings_are_refused_naming_the_jump(drive, tmp_path):
    lat, lon = drive
    lat = np.concatenate([lat, lat + 3.0])  # the same drive again, 333 km north
    lon = np.concatenate([lon, lon])
    half = len(lat) // 2
    stamps = [
        f"2024-05-0{1 + i // 3600}T{(i // 60) % 60:02d}:{i % 60:02d}:00Z" for i in range(2 * half)
    ]
    path = write_gpx(tmp_path / "two.gpx", lat, lon, stamps=stamps)
    with pytest.raises(InputFileError) as caught:
        drop_glitches(read_gpx(path))
    message = str(caught.value)
    assert message.startswith(f"{path}:{half + 1 + HEADER_LINES}: the GPX track: ")
    assert f"parts far apart ({half:,} and {half:,} points)" in message
    assert f"point {half + 1} (line {half + 1 + HEADER_LINES}) is 33" in message
    assert "keep one part per file" in message


@pytest.mark.parametrize(
    ("lat", "lon", "message"),
    [
        ([45.0, 0.0], [-30.0, 0.0], "only 1 of its 2 points is not a GPS glitch"),
        (
            [45.0, 0.0, 45.0, 0.0, 45.0, 0.0, 45.0, 0.0, 45.0],
            [-30.0, 0.0, -30.0001, 0.0, -30.0002, 0.0, -30.0003, 0.0, -30.0004],
            "4 of its 9 points are GPS glitches",
        ),
    ],
)
def test_too_few_good_points_are_refused(tmp_path, lat, lon, message):
    path = write_gpx(tmp_path / "few.gpx", np.array(lat), np.array(lon), times=False)
    with pytest.raises(InputFileError, match=message) as caught:
        drop_glitches(read_gpx(path))
    assert str(caught.value).startswith(f"{path}")
    assert "Error" not in str(caught.value)


def test_a_track_of_a_million_points_is_checked_in_linear_time():
    # Every ninth fix at 0,0: 111,112 glitch pieces, each dropped in one pass.
    count = 1_000_000
    rng = np.random.default_rng(19)
    lat = 45 + np.cumsum(rng.normal(0, 1e-5, count))
    lon = -30 + np.cumsum(rng.normal(0, 1e-5, count))
    lat[::9] = lon[::9] = 0.0
    check = find_glitches(lat, lon, np.arange(count, dtype=float))
    assert check.count == len(range(0, count, 9))


# ---- in a build on real Blender ------------------------------------------------------------


def scene_extent() -> float:
    """The largest distance from the origin of any vertex or point of the build (m)."""
    far = 0.0
    for obj in bpy.data.collections["LeanRoute"].all_objects:
        far = max(far, float(np.abs(np.asarray(obj.matrix_world.translation)).max()))
        if obj.type == "MESH" and len(obj.data.vertices):
            co = np.empty(3 * len(obj.data.vertices), np.float32)
            obj.data.vertices.foreach_get("co", co)
            far = max(far, float(np.abs(co).max()))
    return far


def built_length(city, path) -> float:
    """The route length (m) of a build of the GPX at *path*; the scene is reset first."""
    bpy.ops.wm.read_factory_settings(use_empty=False)
    return SceneBuild(BuildSettings(osm=city.path, gpx=path)).run().results["route"]["length_m"]


@pytest.mark.parametrize(
    "name",
    [
        "null island first",
        "null island middle",
        "null island last",
        "north pole at 180",
        "antipode",
        "5,000 km away",
        "three in a row",
        "first and last",
    ],
)
def test_a_glitched_track_builds_the_clean_scene_and_says_so(
    factory_scene, city, drive, tmp_path, name
):
    lat, lon, bad = glitched(*drive, name)
    # The clean track: the same fixes without the glitched ones, at the same times.
    good = [i for i in range(len(lat)) if i not in bad]
    stamps = [f"2024-05-01T10:{i // 60:02d}:{i % 60:02d}Z" for i in range(len(lat))]
    clean = write_gpx(
        tmp_path / "clean.gpx", lat[good], lon[good], stamps=[stamps[i] for i in good]
    )
    clean_length = built_length(city, clean)
    path = write_gpx(tmp_path / "glitched.gpx", lat, lon)
    bpy.ops.wm.read_factory_settings(use_empty=False)
    result = SceneBuild(BuildSettings(osm=city.path, gpx=path)).run()
    gpx = result.results["gpx"]
    assert gpx["glitches_dropped"] == len(bad)
    assert gpx["glitch_lines"] == [i + 1 + HEADER_LINES for i in bad]
    # Placed where the clean drive is: the sample city is 1.2 km across, plus padding.
    assert scene_extent() < 2_000
    assert result.results["route"]["length_m"] == clean_length
    points = "point" if len(bad) == 1 else "points"
    line = next(line for line in summary_lines(result.results) if line.startswith("route:"))
    assert line.endswith(f"(gpx; {len(bad)} GPS glitch {points} dropped)")
    assert f"{len(bad)} GPS glitch {points} dropped" in one_line(result.results, 1.0)


def test_a_track_in_two_far_parts_is_refused_and_the_scene_kept(
    factory_scene, city, drive, tmp_path
):
    lat, lon = drive
    path = write_gpx(
        tmp_path / "two.gpx",
        np.concatenate([lat, lat - 40]),
        np.concatenate([lon, lon]),
        times=False,
    )
    before = fingerprint()
    with pytest.raises(InputFileError, match=r"two\.gpx:\d+: the GPX track: it is in parts far"):
        SceneBuild(BuildSettings(osm=city.path, gpx=path)).run()
    assert fingerprint() == before
