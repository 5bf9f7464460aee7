"""Memory forecasts of the build stages from the input's size (plain Python, no Blender)."""

import pytest

from leanroute.memory.budget import StageForecast
from leanroute.route import memory_forecast as mf
from leanroute.route.osm_parse import read_osm
from leanroute.route.sample_city import write_sample_city


@pytest.fixture(scope="module")
def cities(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forecast")
    found = {}
    for count in (500, 5000):
        city = write_sample_city(folder / f"city_{count}.osm", buildings=count)
        found[count] = mf.count_input(read_osm(city.path), mf.size_of_file(city.path).file_bytes)
    return found


def test_before_the_parse_only_the_parse_is_estimated_from_the_files_size(tmp_path):
    path = tmp_path / "map.osm"
    path.write_bytes(b"x" * 3_000_000)
    size = mf.size_of_file(path)
    assert size == mf.InputSize(3_000_000)
    parse = mf.forecast("parse", size)
    assert isinstance(parse, StageForecast)
    assert parse.bytes == int(mf.PARSE_PER_FILE_BYTE * 3_000_000) + mf.STAGE_FIXED
    assert parse.basis == "estimated from a 2.9 MiB OSM file"
    assert [mf.forecast(name, size) for name in ("project", "buildings", "animation")] == [None] * 3
    assert mf.size_of_file(tmp_path / "missing.osm") == mf.InputSize(0)
    assert mf.forecast("parse", mf.InputSize(0)) is None
    assert mf.forecast("save", size) is None  # not estimated: a fixed, small cost


def test_counts_follow_the_parsed_data(cities):
    small = cities[500]
    assert small.buildings == 500
    assert small.building_nodes >= 5 * 500  # closed rectangles, courtyard rings included
    assert 0 < small.highway_nodes < small.nodes


def test_forecasts_grow_linearly_with_the_city(cities):
    small, large = cities[500], cities[5000]
    for name in ("project", "route", "roads", "buildings"):
        a, b = mf.forecast(name, small), mf.forecast(name, large)
        fixed = mf.STAGE_FIXED + (mf.PROJECT_FIXED if name == "project" else 0)
        ratio = (b.bytes - fixed) / (a.bytes - fixed)
        assert 5 < ratio < 15, (name, ratio)  # ten times the buildings, about ten times
    assert "5,000 buildings" in mf.forecast("buildings", large).basis


def test_the_animation_is_estimated_once_the_frames_are_known(cities):
    size = mf.with_frames(cities[500], 2400)
    assert size.frames == 2400 and size.buildings == cities[500].buildings
    animation = mf.forecast("animation", size)
    assert animation.bytes == 2400 * mf.ANIMATION_PER_FRAME + mf.STAGE_FIXED
    assert animation.basis == "estimated from 2,400 frames of animation"


def test_a_gpx_track_counts_in_the_parse_and_its_points_in_the_route(tmp_path):
    osm, gpx = tmp_path / "map.osm", tmp_path / "drive.gpx"
    osm.write_bytes(b"x" * 1_000_000)
    gpx.write_bytes(b"x" * 500_000)
    size = mf.size_of_inputs(osm, gpx)
    assert (size.file_bytes, size.gpx_bytes) == (1_000_000, 500_000)
    parse = mf.forecast("parse", size)
    assert parse.bytes == int(5.0 * 1_000_000 + 4.0 * 500_000) + mf.STAGE_FIXED
    assert parse.basis == "estimated from a 976.6 KiB OSM file and a 488.3 KiB GPX file"
    counted = mf.with_track(mf.InputSize(1_000_000, nodes=10_000), 200_000)
    route = mf.forecast("route", counted)
    assert route.bytes == 32 * 10_000 + mf.ROUTE_PER_TRACK_POINT * 200_000 + mf.STAGE_FIXED
    assert route.basis == "estimated from 10,000 nodes and 200,000 track points"


def test_the_save_is_estimated_from_the_frames_and_the_routes_points():
    size = mf.with_frames(mf.InputSize(1), 400_000, route_points=20_000)
    save = mf.forecast("save", size)
    assert save.bytes == (
        mf.SAVE_PER_FRAME * 400_000 + mf.SAVE_PER_ROUTE_POINT * 20_000 + mf.STAGE_FIXED
    )
    assert save.basis == "estimated from 400,000 frames of animation and a route of 20,000 points"


def test_large_roofs_with_courtyards_are_counted_from_the_parsed_relations(tmp_path):
    from helpers.big_rings import circle, hole_grid, write_osm

    big = write_osm(tmp_path / "big.osm", [circle(12000, 150.0)], [circle(12000, 75.0)])
    size = mf.count_input(read_osm(big), mf.size_of_file(big))
    assert (size.buildings, size.building_nodes, size.large_roof_nodes) == (1, 24002, 24002)
    buildings = mf.forecast("buildings", size)
    assert buildings.bytes == (
        mf.BUILDINGS_PER_BUILDING_NODE * 24002
        + mf.LARGE_ROOF_PER_NODE * 24002
        + mf.LARGE_ROOF_FIXED
        + mf.STAGE_FIXED
    )
    assert buildings.basis.endswith("24,002 of them in large roofs with courtyards")
    many = write_osm(tmp_path / "many.osm", [circle(64, 300.0)], hole_grid(100, 200.0, 1.0))
    assert mf.count_input(read_osm(many), 0).large_roof_nodes == 65 + 100 * 5  # 101 rings
    small = write_osm(tmp_path / "small.osm", [circle(64, 300.0)], hole_grid(3, 200.0, 1.0))
    assert mf.count_input(read_osm(small), 0).large_roof_nodes == 0  # the quick filler's
    way = write_osm(tmp_path / "way.osm", [circle(50000, 150.0)], as_way=True)
    assert mf.count_input(read_osm(way), 0).large_roof_nodes == 0  # an n-gon roof
