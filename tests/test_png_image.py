"""The small PNG reader the UI test checks its screenshots with (plain numpy + zlib)."""

import struct
import zlib

import numpy as np
import pytest
from helpers.png_image import PngError, decode_png, read_png, unfilter

# -- the PNG reader -------------------------------------------------------------------------


def _paeth(left, up, up_left):
    to_left, to_up = np.abs(up - up_left), np.abs(left - up_left)
    to_up_left = np.abs(left + up - 2 * up_left)
    return np.where(
        (to_left <= to_up) & (to_left <= to_up_left),
        left,
        np.where(to_up <= to_up_left, up, up_left),
    )


def _encode_png(image: np.ndarray, kinds, *, colour_type: int, interlace: int = 0) -> bytes:
    """A PNG of *image* whose row r uses filter kinds[r % len(kinds)] (plain reference code)."""
    height, width, channels = image.shape
    pixels = image.astype(np.int16).reshape(height, width * channels)
    rows = []
    for r in range(height):
        kind = kinds[r % len(kinds)]
        raw = pixels[r]
        prior = pixels[r - 1] if r else np.zeros_like(raw)
        left = np.concatenate([np.zeros(channels, np.int16), raw[:-channels]])
        up_left = np.concatenate([np.zeros(channels, np.int16), prior[:-channels]])
        predicted = (0, left, prior, (left + prior) >> 1, _paeth(left, prior, up_left))[kind]
        rows.append(bytes([kind]) + ((raw - predicted) & 0xFF).astype(np.uint8).tobytes())

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, interlace)
    data = zlib.compress(b"".join(rows))
    # The image data split over two IDAT chunks, as encoders may do.
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Comment\x00made by the test")
        + chunk(b"IDAT", data[: len(data) // 2])
        + chunk(b"IDAT", data[len(data) // 2 :])
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("colour_type", "channels"), [(0, 1), (2, 3), (4, 2), (6, 4)])
def test_png_reader_undoes_every_filter(colour_type, channels):
    rng = np.random.default_rng(colour_type)
    # Noise and smooth gradients, so every predictor meets both kinds of neighbours.
    noise = rng.integers(0, 256, (23, 37, channels), dtype=np.uint8)
    ramp = (np.add.outer(np.arange(23) * 7, np.arange(37) * 5) % 256).astype(np.uint8)
    image = np.where(rng.random((23, 37, 1)) < 0.5, noise, ramp[..., None])
    for kinds in ([0], [1], [2], [3], [4], [0, 1, 2, 3, 4], [4, 3, 1, 2]):
        png = _encode_png(image, kinds, colour_type=colour_type)
        assert np.array_equal(decode_png(png), image), f"filters {kinds}"


def test_png_reader_matches_a_python_loop_on_a_wide_image():
    rng = np.random.default_rng(7)
    kinds = rng.integers(0, 5, 6).astype(np.uint8)
    filtered = rng.integers(0, 256, (6, 50, 3), dtype=np.uint8)
    expected = np.zeros((6, 50 * 3), np.int64)
    flat = filtered.reshape(6, -1).astype(np.int64)
    for r in range(6):
        for i in range(150):
            a = expected[r, i - 3] if i >= 3 else 0
            b = expected[r - 1, i] if r else 0
            c = expected[r - 1, i - 3] if r and i >= 3 else 0
            p = a + b - c
            paeth = min((abs(p - a), 0, a), (abs(p - b), 1, b), (abs(p - c), 2, c))[2]
            predicted = (0, a, b, (a + b) // 2, paeth)[kinds[r]]
            expected[r, i] = (flat[r, i] + predicted) % 256
    assert np.array_equal(unfilter(kinds, filtered).reshape(6, -1), expected)


def test_png_reader_refuses_what_it_does_not_read():
    image = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(PngError, match="interlaced"):
        decode_png(_encode_png(image, [0], colour_type=2, interlace=1))
    with pytest.raises(PngError, match="colour type 3"):
        decode_png(_encode_png(image[..., :1], [0], colour_type=3))
    with pytest.raises(PngError, match="signature"):
        decode_png(b"GIF89a")
    png = bytearray(_encode_png(image, [0], colour_type=2))
    png[-20] ^= 0xFF  # inside the last IDAT chunk
    with pytest.raises(PngError, match="CRC"):
        decode_png(bytes(png))


def test_png_reader_reads_a_png_written_by_blender(tmp_path):
    import bpy

    width, height = 48, 32
    rng = np.random.default_rng(3)
    expected = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    expected[..., 3] = 255
    image = bpy.data.images.new("leanroute png reader test", width, height, alpha=True)
    try:
        # Blender's pixels run bottom row first, as floats; k / 255 stores exactly k.
        image.pixels.foreach_set((expected[::-1].astype(np.float32) / 255).ravel())
        image.filepath_raw = str(tmp_path / "blender.png")
        image.file_format = "PNG"
        image.save()
    finally:
        bpy.data.images.remove(image)
    pixels = read_png(tmp_path / "blender.png")
    assert pixels.shape[:2] == (height, width)
    difference = np.abs(pixels[..., :3].astype(int) - expected[..., :3].astype(int))
    assert difference.max() <= 1
