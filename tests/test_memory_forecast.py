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
