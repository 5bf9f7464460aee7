"""Refuse a sample city that cannot be built, before a byte of it is written (plain Python).

``demo --buildings 10000000`` used to start writing a 5 GB file, build for minutes and, when
killed, leave the file's temporary behind. The city's sizes follow from N alone
(:func:`.sample_city.estimate_city`), so its file, its parse and every later stage can be
estimated first: a city that would not fit the disk or the memory budget is refused with the
estimate in the message, and nothing is made.
"""

from pathlib import Path

from ..memory.budget import MemoryBudget, StageForecast
from ..memory.process_memory import available_bytes, rss_bytes
from ..memory.units import format_bytes
from .errors import SettingsError, free_bytes
from .memory_forecast import InputSize, forecast
from .sample_city import estimate_city

#: The stages whose forecast the parsed city's data stays beside (freed after the buildings).
_WITH_THE_MAP = ("project", "route", "roads", "buildings")
_LATER = ("animation", "save")
ADVICE = "Try fewer buildings (--buildings), or close other programs."


def check_sample_city(
    buildings: "int | None", settings, folder: Path, budget: "MemoryBudget | None" = None
) -> None:
    """Refuse a city of *buildings* that the disk under *folder* or the budget cannot hold.

    *settings* are the build's (its speed and frames give the drive's length in frames);
    *budget* is the build's, by default :meth:`.MemoryBudget.default`. Raises
    :class:`.errors.SettingsError` (``--buildings``) for the disk and
    :class:`.budget.MemoryBudgetForecast` for memory. The default city (None) always fits.
    """
    if buildings is None:
        return
    city = estimate_city(buildings)
    named = f"the sample city of {city.buildings:,} buildings"
    free = free_bytes(folder)
    if free is not None and city.file_bytes > free:
        raise SettingsError(
            "--buildings",
            f"{named} needs about {format_bytes(city.file_bytes)} for sample.osm in {folder}, "
            f"and {format_bytes(free)} is free there: give fewer buildings or another --out-dir",
        )
    size = InputSize(
        city.file_bytes,
        nodes=city.nodes,
        highway_nodes=city.highway_nodes,
        building_nodes=city.building_nodes,
        buildings=city.buildings,
        frames=settings.drive_frames(city.route_m),
        large_roof_nodes=0,
        route_points=int(city.route_m // 10) + 2,  # street nodes are further apart
    )
    rss = rss_bytes()
    resolved = (budget or MemoryBudget.default()).resolve(rss, available_bytes())
    parse = forecast("parse", size)
    needs = {"parse": parse}
    for stage in _WITH_THE_MAP:
        alone = forecast(stage, size)
        needs[stage] = StageForecast(parse.bytes + alone.bytes, alone.basis + " and the map")
    for stage in _LATER:
        needs[stage] = forecast(stage, size)
    for stage, need in needs.items():
        basis = need.basis.replace("estimated from", f"estimated for {named}, from", 1)
        resolved.refuse_forecast(stage, rss, StageForecast(need.bytes, basis), advice=ADVICE)
