# SPDX-License-Identifier: GPL-3.0-or-later
"""Build reports kept in the scene as JSON text, and read back for the panels."""

import json

from ..memory.bounded_cache import BoundedCache
from ..memory.report import PipelineReport

# Panels redraw often; parsing the same JSON each time would be wasted work. Keyed by the
# text itself, so an undo or a file load that changes it is never served stale.
_parsed = BoundedCache("stored reports", max_entries=4, scope="session")


def report_text(report: PipelineReport) -> str:
    """Compact JSON of *report* without its RSS timeline (kept out of the .blend)."""
    data = report.to_dict()
    data.pop("rss_timeline", None)
    return json.dumps(data, separators=(",", ":"))


def parse_report(text: str) -> "PipelineReport | None":
    """The report stored as *text*, or None for empty or unreadable text."""
    if not text:
        return None
    found = _parsed.get(text)
    if found is None:
        try:
            found = PipelineReport.from_dict(json.loads(text))
        except (ValueError, TypeError, KeyError):
            return None
        _parsed.put(text, found)
    return found


def parse_json(text: str) -> "dict | None":
    """Plain JSON stored as *text* (the leak check's), or None."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
