"""Every file a build writes, and the car it appends, checked before it starts (no bpy).

:func:`check_build_paths` runs in :meth:`.build.SceneBuild.start` (the panel, batch jobs,
scripts) and, with the options' own names, in the command line before anything else is
done: the outputs by :mod:`.output_paths`, the car's file by :func:`check_blend_file`.
"""

import gzip
import zlib
from collections.abc import Iterable, Mapping

from .errors import InputFileError
from .input_files import open_input
from .output_paths import Output, check_outputs

#: How a .blend file starts: uncompressed, or compressed by Blender with gzip (to 2.9x) or
#: zstd (3.0 and later).
BLEND_MAGIC = b"BLENDER"
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

#: How a build's paths are named in messages, by BuildSettings field (the jobs file's columns).
FIELD_LABELS = {
    "osm": "osm",
    "gpx": "gpx",
    "car_blend": "car_blend",
    "out": "out",
    "report": "report",
}


def check_build_paths(
    settings,
    labels: "Mapping[str, str] | None" = None,
    extra_inputs: Iterable[tuple[str, object]] = (),
) -> None:
    """Refuse *settings*' outputs and car file before a build starts.

    *labels* name the fields as the user knows them (``--out`` on the command line);
    *extra_inputs* are more ``(label, path)`` files the outputs must not be (a jobs file).
    """
    names = {**FIELD_LABELS, **(labels or {})}
    if settings.car_blend is not None:
        check_blend_file(settings.car_blend, names["car_blend"])
    outputs = []
    if settings.out is not None:
        outputs.append(Output(names["out"], settings.out, ".blend", by_blender=True))
    if settings.report is not None:
        outputs.append(Output(names["report"], settings.report, ".json"))
    inputs = [(names[field], getattr(settings, field)) for field in ("osm", "gpx", "car_blend")]
    check_outputs(outputs, [*inputs, *extra_inputs])


def check_blend_file(path, option: str = "car_blend") -> None:
    """Refuse *path* unless it is a regular file that starts as a .blend file does.

    A folder, a FIFO or a device is refused by :func:`.input_files.open_input` (never opened
    so as to block); a file of another kind (an .osm, a text file) here, by its first bytes,
    instead of an error from Blender in the middle of the build.
    """
    with open_input(path, "a .blend file", option) as handle:
        head = handle.read(len(BLEND_MAGIC))
        if head.startswith(GZIP_MAGIC):
            handle.seek(0)
            head = _gunzip_head(handle)
    if head.startswith((BLEND_MAGIC, ZSTD_MAGIC)):
        return
    start = head.decode("ascii", "replace")
    found = f"it starts with {start!r}, not {BLEND_MAGIC.decode()!r}" if head else "it is empty"
    raise InputFileError(
        path,
        f"is not a Blender file ({found}): give the .blend file that holds the car ({option})",
    )


def _gunzip_head(handle) -> bytes:
    try:
        with gzip.GzipFile(fileobj=handle) as unpacked:
            return unpacked.read(len(BLEND_MAGIC))
    except (OSError, EOFError, zlib.error):
        return b"gzip"
