"""An impossible sample city is refused from N before anything is written; no temporary stays.

On d7ad699 ``demo --buildings 10000000`` started writing a 5 GB city and, killed, left a
144 MB ``sample.osm.*`` temporary behind that no later run removed.
"""

import math
import os
import signal
import subprocess
import sys
import time

import pytest

from leanroute.cli.commands import main
from leanroute.memory.budget import MemoryBudget, MemoryBudgetForecast
from leanroute.memory.process_memory import rss_bytes
from leanroute.memory.units import MIB
from leanroute.route import demo_forecast
from leanroute.route.errors import SettingsError
from leanroute.route.sample_city import estimate_city, write_sample_city
from leanroute.route.settings import BuildSettings

SETTINGS = BuildSettings(osm="sample.osm", waypoints=((45.0, -30.0), (45.0, -29.99)))


def test_ten_million_buildings_are_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--buildings", "10000000", "--out-dir", str(out), "--quiet"])
    assert code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith("leanroute: error: stage 'parse' not started: it is estimated to need")
    assert (
        "(estimated for the sample city of 10,000,000 buildings, from a 4.9 GiB OSM file)" in line
    )
    assert "over the hard budget of" in line and "Nothing was built" in line
    assert "Try fewer buildings (--buildings)" in line
    assert not out.exists()  # not even the folder


def test_the_refusal_names_the_stage_that_would_not_fit_under_a_given_budget(tmp_path):
    # 100,000 buildings: a 50 MB file, whose parse fits 400 MiB but whose buildings do not.
    budget = MemoryBudget(hard=rss_bytes() + 400 * MIB)
    with pytest.raises(MemoryBudgetForecast) as raised:
        demo_forecast.check_sample_city(100_000, SETTINGS, tmp_path, budget)
    error = raised.value
    assert error.stage == "buildings"
    assert "100,000 buildings with 502,016 nodes and the map" in str(error)
    assert "the sample city of 100,000 buildings" in str(error)
    demo_forecast.check_sample_city(100_000, SETTINGS, tmp_path, MemoryBudget(hard=64 << 30))
    demo_forecast.check_sample_city(None, SETTINGS, tmp_path, MemoryBudget(hard=1))  # default
    assert list(tmp_path.iterdir()) == []


def test_a_city_larger_than_the_free_disk_is_refused_naming_the_space(tmp_path, monkeypatch):
    # The disk's free space is the operating system's answer; here it says 10 MB.
    monkeypatch.setattr(demo_forecast, "free_bytes", lambda folder: 10 * MIB)
    with pytest.raises(SettingsError) as raised:
        demo_forecast.check_sample_city(100_000, SETTINGS, tmp_path)
    assert "--buildings" in str(raised.value)
    assert "needs about 50.1 MiB for sample.osm" in str(raised.value)
    assert "10.0 MiB is free there" in str(raised.value)


@pytest.mark.parametrize("buildings", [1, 10, 1000, 20000])
def test_the_estimate_from_n_is_an_upper_bound_of_the_city_written(tmp_path, buildings):
    from leanroute.route.memory_forecast import count_input
    from leanroute.route.osm_parse import read_osm

    estimate = estimate_city(buildings)
    city = write_sample_city(tmp_path / "city.osm", buildings=buildings)
    counts = count_input(read_osm(city.path), os.path.getsize(city.path))
    assert counts.file_bytes <= estimate.file_bytes <= 1.3 * counts.file_bytes + 4096
    assert counts.nodes <= estimate.nodes
    assert counts.highway_nodes <= estimate.highway_nodes
    assert counts.building_nodes <= estimate.building_nodes
    # The route: corner to centre to corner, at least its straight length on the grid.
    (a_lat, a_lon), _, (b_lat, b_lon) = city.waypoints
    straight = math.hypot((b_lat - a_lat) * 111_195.0, (b_lon - a_lon) * 78_627.0)
    assert estimate.route_m >= straight


def test_a_killed_write_leaves_a_temporary_the_next_run_removes(tmp_path):
    target = tmp_path / "sample.osm"
    script = (
        "import sys\n"
        "from leanroute.route.sample_city import write_sample_city\n"
        "write_sample_city(sys.argv[1], buildings=2_000_000)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script, str(target)])
    temporary = tmp_path / f".sample.tmp-{writer.pid}.osm"
    try:
        # Wait until the city is being written (a guard against a hang, not a measurement).
        deadline = time.monotonic() + 120
        while not (temporary.exists() and temporary.stat().st_size > 1 << 20):
            assert writer.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert temporary.exists() and not target.exists()  # what a killed run leaves
    # One of a writer still running (the parent of this test, started before it) stays.
    alive = tmp_path / f".sample.tmp-{os.getppid()}.osm"
    alive.write_text("being written")
    city = write_sample_city(target, buildings=5)
    assert city.buildings == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "sample.osm"]
