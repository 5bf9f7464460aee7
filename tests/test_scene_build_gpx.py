"""Building from a recorded GPX track: cleaned, smoothed, snapped to roads; bad tracks refused."""

import bpy
import numpy as np
import pytest
from helpers.paths import SHARED_DATA
from helpers.scene import fingerprint

from leanroute.route.build import SceneBuild
from leanroute.route.errors import InputFileError, RouteError
from leanroute.route.osm_parse import read_osm
from leanroute.route.projection import LocalProjection
from leanroute.route.road_graph import RoadGraph
from leanroute.route.routing import route_waypoints
from leanroute.route.settings import BuildSettings

KREMS = SHARED_DATA / "osm" / "krems.osm"
WAYPOINTS = ((48.40768, 15.61074), (48.40685, 15.63098))


def noisy_track_gpx(path, *, noise_m: float = 4.0, seed: int = 7):
    """A GPX 'recording' of a Krems route: one fix a second at 36 km/h, with GPS noise."""
    osm = read_osm(KREMS)
    projection = LocalProjection(*WAYPOINTS[0])
    x, y = projection.forward(osm.nodes.lat, osm.nodes.lon)
    graph = RoadGraph.from_osm(osm, np.column_stack([x, y]))
    wx, wy = projection.forward(*np.asarray(WAYPOINTS).T)
    route = route_waypoints(graph, np.column_stack([wx, wy]))
    steps = np.hypot(*np.diff(route.xy, axis=0).T)
    along = np.concatenate([[0], np.cumsum(steps)])
    samples = np.arange(0, along[-1], 10.0)
    xy = np.column_stack([np.interp(samples, along, route.xy[:, i]) for i in (0, 1)])
    xy += np.random.default_rng(seed).normal(0, noise_m, xy.shape)
    lat, lon = projection.inverse(xy[:, 0], xy[:, 1])
    points = "\n".join(
        f'<trkpt lat="{a:.7f}" lon="{b:.7f}"><time>2024-05-01T10:{i // 60:02d}:{i % 60:02d}Z'
        "</time></trkpt>"
        for i, (a, b) in enumerate(zip(lat, lon, strict=True))
    )
    path.write_text(
        '<?xml version="1.0"?>\n<gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n'
        f"{points}\n</trkseg></trk></gpx>\n"
    )
    return route.length_m


def test_a_noisy_track_is_snapped_onto_the_roads(factory_scene, tmp_path):
    length = noisy_track_gpx(tmp_path / "drive.gpx")
    settings = BuildSettings(osm=KREMS, gpx=tmp_path / "drive.gpx")
    result = SceneBuild(settings).run()
    route = result.results["route"]
    assert route["source"] == "gpx" and route["snapped"]
    # Snapped onto the same streets: about the routed length, not the noisy zig-zag.
    assert abs(route["length_m"] - length) < 0.05 * length
    assert "LeanRoute Car" in bpy.data.objects


def test_an_unsnapped_track_keeps_the_smoothed_recording(factory_scene, tmp_path):
    noisy_track_gpx(tmp_path / "drive.gpx")
    result = SceneBuild(BuildSettings(osm=KREMS, gpx=tmp_path / "drive.gpx", snap_gpx=False)).run()
    assert result.results["route"]["snapped"] is False


def test_a_track_outside_the_map_is_refused_and_the_scene_kept(factory_scene):
    before = fingerprint()
    gpx = SHARED_DATA / "gpx" / "visnjan_drive.gpx"
    with pytest.raises(RouteError, match="outside the OSM data"):
        SceneBuild(BuildSettings(osm=KREMS, gpx=gpx)).run()
    assert fingerprint() == before


def test_a_broken_gpx_names_the_file_and_line(factory_scene, tmp_path):
    broken = tmp_path / "broken.gpx"
    broken.write_text('<?xml version="1.0"?>\n<gpx><trk><trkseg>\n<trkpt lat="48.4" lon=')
    with pytest.raises(InputFileError, match=r"broken\.gpx:\d+"):
        SceneBuild(BuildSettings(osm=KREMS, gpx=broken)).run()
