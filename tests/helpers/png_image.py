"""A small PNG reader (zlib + numpy) for the screenshots the UI test checks.

It reads what Blender's screenshot writes and little more: 8-bit greyscale, grey + alpha,
RGB and RGBA images, not interlaced, with any of the five row filters. Anything else
(palettes, 16-bit samples, Adam7 interlacing) raises :class:`PngError` saying so.
"""

import struct
import zlib
from pathlib import Path

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Channels per pixel of each supported colour type (PNG spec, table 11.1).
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}
FILTER_NONE, FILTER_SUB, FILTER_UP, FILTER_AVERAGE, FILTER_PAETH = range(5)


class PngError(ValueError):
    """The file is not a PNG this reader understands."""


def read_png(path) -> np.ndarray:
    """Pixels of the PNG at *path*: uint8 array (height, width, channels), top row first."""
    return decode_png(Path(path).read_bytes())


def decode_png(data: bytes) -> np.ndarray:
    """Pixels of the PNG file *data* (see :func:`read_png`)."""
    if not data.startswith(SIGNATURE):
        raise PngError("not a PNG file (bad signature)")
    header, idat = _read_chunks(data)
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", header
    )
    if colour not in CHANNELS:
        raise PngError(f"colour type {colour} is not supported (palette?)")
    if depth != 8:
        raise PngError(f"bit depth {depth} is not supported, only 8")
    if compression != 0 or filtering != 0:
        raise PngError("unknown compression or filter method")
    if interlace != 0:
        raise PngError("interlaced PNGs are not supported")
    channels = CHANNELS[colour]
    raw = zlib.decompress(b"".join(idat))
    stride = 1 + width * channels
    if len(raw) != height * stride:
        raise PngError(f"image data is {len(raw)} bytes, expected {height * stride}")
    rows = np.frombuffer(raw, np.uint8).reshape(height, stride)
    return unfilter(rows[:, 0], rows[:, 1:].reshape(height, width, channels))


def _read_chunks(data: bytes) -> tuple[bytes, list[bytes]]:
    header, idat, offset = None, [], len(SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise PngError(f"{kind.decode('latin-1')} chunk has a bad CRC")
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        offset += 12 + length
    if header is None or not idat:
        raise PngError("no IHDR or no IDAT chunk")
    return header, idat


def unfilter(kinds: np.ndarray, filtered: np.ndarray) -> np.ndarray:
    """Undo the PNG row filters: *kinds* (height,), *filtered* (height, width, channels).

    Average and Paeth make each byte depend on its left, upper and upper-left neighbours,
    so no row can be done in one numpy step. Every pixel on an anti-diagonal (row + column
    = d) depends only on diagonals d-1 and d-2, though, so the image is decoded one
    diagonal at a time: width + height numpy steps instead of a Python loop per byte.
    """
    if kinds.size and int(kinds.max()) > FILTER_PAETH:
        raise PngError(f"unknown row filter {int(kinds.max())}")
    height, width, channels = filtered.shape
    diagonals = height + width - 1
    # Diagonal-major, so that each step reads contiguous memory: skewed[d, r] is the filtered
    # pixel (r, d - r). decoded[d + 2, r + 1] is the decoded one; the zero row and columns
    # around it are the PNG's "outside the image" bytes.
    skewed = np.zeros((diagonals, height, channels), np.int16)
    decoded = np.zeros((diagonals + 2, height + 1, channels), np.int16)
    for row in range(height):
        skewed[row : row + width, row] = filtered[row]
    kinds = kinds.astype(np.int16)[:, None]
    for d in range(diagonals):
        first, stop = max(0, d - width + 1), min(height, d + 1)
        left = decoded[d + 1, first + 1 : stop + 1]
        up = decoded[d + 1, first:stop]
        up_left = decoded[d, first:stop]
        predicted = np.choose(
            kinds[first:stop],
            (0, left, up, (left + up) >> 1, _paeth(left, up, up_left)),
        )
        decoded[d + 2, first + 1 : stop + 1] = (skewed[d, first:stop] + predicted) & 0xFF
    image = np.empty((height, width, channels), np.uint8)
    for row in range(height):
        image[row] = decoded[row + 2 : row + 2 + width, row + 1]
    return image


def _paeth(left: np.ndarray, up: np.ndarray, up_left: np.ndarray) -> np.ndarray:
    to_left = np.abs(up - up_left)
    to_up = np.abs(left - up_left)
    to_up_left = np.abs(left + up - 2 * up_left)
    return np.where(
        (to_left <= to_up) & (to_left <= to_up_left),
        left,
        np.where(to_up <= to_up_left, up, up_left),
    )
