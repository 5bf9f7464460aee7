"""A build that would not fit its memory budget says so before the stage, from the input's size."""

import bpy
import pytest
from helpers.scene import fingerprint

from leanroute.memory.budget import MemoryBudget, MemoryBudgetForecast
from leanroute.memory.idle_clean import clean_now
from leanroute.memory.process_memory import rss_bytes
from leanroute.memory.units import MIB
from leanroute.route.build import SceneBuild
from leanroute.route.memory_forecast import forecast, size_of_file
from leanroute.route.sample_city import write_sample_city
from leanroute.route.settings import BuildSettings

pytestmark = [pytest.mark.binary_compatible, pytest.mark.usefixtures("factory_scene")]


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return write_sample_city(tmp_path_factory.mktemp("forecast") / "city.osm", buildings=3000)


def settings(city, tmp_path) -> BuildSettings:
    return BuildSettings(
        osm=city.path,
        waypoints=city.waypoints,
        out=tmp_path / "city.blend",
        report=tmp_path / "report.json",
    )


def test_a_build_over_budget_stops_before_the_stage_and_leaves_the_scene_as_it_was(city, tmp_path):
    before = fingerprint()
    # Settle first: memory that earlier tests left for the allocator to return would make
    # RSS fall during the parse and leave room for what follows.
    clean_now("test", "settle before measuring")
    # Room for the parse (its forecast is from the 1.5 MB file), not for the projection
    # after it (~32 MiB for its 12,000 nodes).
    parse = forecast("parse", size_of_file(city.path))
    hard = rss_bytes() + parse.bytes + 4 * MIB
    build = SceneBuild(settings(city, tmp_path), budget=MemoryBudget(hard=hard))
    with pytest.raises(MemoryBudgetForecast) as raised:
        build.run()
    error = raised.value
    assert error.stage == "project"  # checked right after the parse, with the counts known
    assert "estimated from 12," in str(error) and "nodes" in str(error)
    assert "Nothing was built" in str(error)
    report = build.pipeline.report
    assert [stage.name for stage in report.stages] == ["parse"]
    # Said before the machine got there: no stage went over the budget.
    assert all(stage.peak.rss < hard for stage in report.stages)
    assert report.results["rolled_back"] is True
    assert fingerprint() == before
    assert not (tmp_path / "city.blend").exists() and not (tmp_path / "report.json").exists()


def test_a_file_too_large_for_the_budget_is_refused_before_it_is_read(city, tmp_path):
    before = fingerprint()
    build = SceneBuild(settings(city, tmp_path), budget=MemoryBudget(hard=rss_bytes() + MIB))
    with pytest.raises(MemoryBudgetForecast, match=r"stage 'parse' not started.*MiB OSM file"):
        build.run()
    assert build.pipeline.report.stages == [] and build.state.osm is None
    assert fingerprint() == before


def test_with_the_default_budget_every_stage_records_its_forecast(city, tmp_path):
    result = SceneBuild(settings(city, tmp_path)).run()
    stages = {stage.name: stage for stage in result.report.stages}
    assert all(stage.budget_hard for stage in stages.values())  # the default budget
    for name in ("parse", "project", "route", "roads", "buildings", "animation"):
        stage = stages[name]
        assert stage.forecast and stage.forecast_basis.startswith("estimated from"), name
        # The estimates are upper bounds, within a few times what the stage took.
        grew = stage.peak.rss - stage.before.rss
        assert grew <= stage.forecast, (name, grew, stage.forecast)
    assert "3,000 buildings" in stages["buildings"].forecast_basis
    assert len(bpy.data.objects) >= 6
