"""How a worker process reports to its coordinator: one JSON event per stdout line (no bpy).

Lines without the prefix are Blender's or the build's own output; the coordinator copies
them to the worker's log file.
"""

import json

PREFIX = "@leanroute-batch "


def encode(event: str, fields: dict) -> str:
    """One line (without newline) carrying *event* and its *fields*."""
    return PREFIX + json.dumps({"event": event, **fields}, default=str)


def decode(line: str) -> "dict | None":
    """The event in *line*, or None for any other output (or a line cut off mid-write).

    The prefix is looked for anywhere in the line: Blender's C code writes to the same
    stdout, and a partial line of its own may come first.
    """
    start = line.find(PREFIX)
    if start < 0:
        return None
    try:
        event = json.loads(line[start + len(PREFIX) :])
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) and "event" in event else None
