"""Jobs files over the shared OSM extracts, for the batch tests."""

import csv
import json
from pathlib import Path

from helpers.paths import SHARED_DATA

#: name -> (extract file, waypoints "lat,lon;lat,lon")
ROUTES = {
    "lisbon": ("lisbon_avenidas_novas.osm", "38.7355,-9.1465;38.7327,-9.1432"),
    "berlin": ("berlin_mitte_kreuzberg.osm", "52.5120,13.3880;52.5066,13.3990"),
    "krems": ("krems.osm", "48.40768,15.61074;48.40685,15.63098;48.4059,15.6565"),
}


def job_rows(count: int, *, padding: float = 100.0, cities=tuple(ROUTES)) -> list[dict]:
    """*count* jobs cycling over *cities*, ids ``<city>-NN``."""
    rows = []
    for k in range(count):
        city = cities[k % len(cities)]
        osm, waypoints = ROUTES[city]
        rows.append(
            {
                "id": f"{city}-{k + 1:02d}",
                "osm": str(SHARED_DATA / "osm" / osm),
                "waypoints": waypoints,
                "padding": padding,
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict]) -> Path:
    """Write *rows* as a jobs CSV (columns from the first row)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_json(path: Path, rows: list[dict], defaults: "dict | None" = None) -> Path:
    """Write *rows* as a jobs JSON file (with *defaults* when given)."""
    data = {"defaults": defaults, "jobs": rows} if defaults is not None else rows
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path
