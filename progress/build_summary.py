# SPDX-License-Identifier: GPL-3.0-or-later
"""What a build made, in words: lines for the terminal, one line for Blender's status bar."""


def summary_lines(results: dict) -> list[str]:
    """Route, roads, buildings and animation of a build's ``results``, a line each."""
    lines = []
    route = results.get("route", {})
    if route:
        lines.append(f"route: {route.get('length_m', 0) / 1000:.2f} km ({route.get('source')})")
    roads, buildings = results.get("roads"), results.get("buildings")
    if roads:
        lines.append(f"roads: {roads.get('built', 0)} ways, {roads.get('faces', 0)} faces")
    if buildings:
        lines.append(
            f"buildings: {buildings.get('built', 0)} built "
            f"({buildings.get('with_holes', 0)} with courtyards), {buildings.get('faces', 0)} faces"
        )
    animation = results.get("animation")
    if animation:
        first, last = animation["frames"]
        lines.append(f"animation: frames {first}-{last} ({animation['seconds']} s)")
    return lines


def one_line(results: dict, seconds: float) -> str:
    """The whole build in one line, for an INFO report."""
    parts = [part.replace(": ", " ", 1) for part in summary_lines(results)]
    return f"LeanRoute built in {seconds:.1f} s: " + "; ".join(parts)
