# SPDX-License-Identifier: GPL-3.0-or-later
"""What a build made, in words: lines for the terminal, one line for Blender's status bar."""


def summary_lines(results: dict) -> list[str]:
    """Route, roads, buildings and animation of a build's ``results``, a line each."""
    lines = []
    route = results.get("route", {})
    if route:
        source = f"{route.get('source')}{_track_notes(results.get('gpx') or {})}"
        lines.append(f"route: {route.get('length_m', 0) / 1000:.2f} km ({source})")
    roads, buildings = results.get("roads"), results.get("buildings")
    if roads:
        lines.append(f"roads: {roads.get('built', 0)} ways, {roads.get('faces', 0)} faces")
    if buildings:
        left_open = buildings.get("roofs_left_open")
        open_note = f", {left_open} roofs left open (rings crossing themselves)"
        open_note = open_note if left_open else ""
        lines.append(
            f"buildings: {buildings.get('built', 0)} built "
            f"({buildings.get('with_holes', 0)} with courtyards), {buildings.get('faces', 0)} faces"
            f"{open_note}"
        )
    animation = results.get("animation")
    if animation:
        first, last = animation["frames"]
        lines.append(f"animation: frames {first}-{last} ({animation['seconds']} s)")
    kept = results.get("kept_for_user")
    if kept:
        # The previous build's data that the user's data still used: not removed, theirs now.
        count = sum(kept.values())
        lines.append(
            f"kept: {count} data-block{'s' if count != 1 else ''} of the previous build "
            "that your data uses, now yours"
        )
    return lines


def one_line(results: dict, seconds: float) -> str:
    """The whole build in one line, for an INFO report."""
    parts = [part.replace(": ", " ", 1) for part in summary_lines(results)]
    return f"LeanRoute built in {seconds:.1f} s: " + "; ".join(parts)


def _track_notes(gpx: dict) -> str:
    """What was left out of the GPX track, for the route line ("" if nothing)."""
    notes = []
    dropped = gpx.get("glitches_dropped", 0)
    if dropped:
        notes.append(f"{dropped} GPS glitch point{'s' * (dropped != 1)} dropped")
    if gpx.get("times_ignored"):
        notes.append("times ignored: out of order")
    return "".join(f"; {note}" for note in notes)
