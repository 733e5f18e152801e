"""The PNG writer: every pixel survives a round trip through Pillow, whether the rows are
deflated in one range or in several joined afterwards."""

from __future__ import annotations

import zlib
from itertools import pairwise

import numpy as np
import pytest

from function.output.png import adler32_combine, deflate_rows, png_from_parts
from function.process.workers import Workers
from tests.support import images


def _bands(pixels: np.ndarray, rows: int) -> list[np.ndarray]:
    flat = pixels.reshape(pixels.shape[0], -1)
    return [flat[top : top + rows] for top in range(0, flat.shape[0], rows)]


def png_bytes(size: tuple[int, int], bands: list[np.ndarray], level: int) -> bytes:
    """The whole image as one range of rows."""
    return png_from_parts(size, [deflate_rows(size[0] * 4, bands, None, level, final=True)])


def _decode(body: bytes) -> np.ndarray:
    return np.asarray(images.decode_rgba(body))


@pytest.mark.parametrize("level", [0, 1, 2, 3])
@pytest.mark.parametrize(("size", "rows"), [((1, 1), 1), ((1, 7), 3), ((7, 1), 5), ((333, 211), 50), ((64, 64), 64)])
def test_random_rgba_round_trips_exactly(level: int, size: tuple[int, int], rows: int) -> None:
    pixels = np.random.default_rng(size[0] * 1000 + size[1]).integers(0, 256, (size[1], size[0], 4), dtype=np.uint8)
    assert np.array_equal(_decode(png_bytes(size, _bands(pixels, rows), level)), pixels)


def test_parts_deflated_apart_join_into_one_png() -> None:
    pixels = np.random.default_rng(7).integers(0, 256, (211, 333, 4), dtype=np.uint8)
    flat = pixels.reshape(211, -1)
    cuts = [0, 1, 90, 91, 211]
    parts = [
        deflate_rows(333 * 4, _bands(pixels[top:bottom], 13), flat[top - 1] if top else None, 2, final=bottom == 211)
        for top, bottom in pairwise(cuts)
    ]
    assert np.array_equal(_decode(png_from_parts((333, 211), parts)), pixels)
    with pytest.raises(ValueError, match="last part"):
        png_from_parts((333, 211), parts[::-1])
    with pytest.raises(ValueError, match="rows"):
        png_from_parts((333, 211), parts[1:])


@pytest.mark.parametrize("lengths", [(0, 0), (0, 5), (5, 0), (1, 65521), (65521, 65520), (3000, 200_000)])
def test_adler32_combine_matches_adler32_of_the_whole(lengths: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(lengths))
    first, second = (rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in lengths)
    second_high = b"\xff" * lengths[1]  # the largest sums, where a missing modulo would show
    for tail in (second, second_high):
        combined = adler32_combine(zlib.adler32(first), zlib.adler32(tail), len(tail))
        assert combined == zlib.adler32(first + tail)


def test_the_container_is_plain_png() -> None:
    body = png_bytes((3, 2), [np.full((2, 12), 7, dtype=np.uint8)], 1)
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    assert body[12:16] == b"IHDR"
    assert body[-12:] == b"\x00\x00\x00\x00IEND" + zlib.crc32(b"IEND").to_bytes(4, "big")


def test_wrong_bands_and_levels_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        png_bytes((3, 2), [np.zeros((2, 9), dtype=np.uint8)], 1)
    with pytest.raises(ValueError, match="rows"):
        png_bytes((3, 2), [np.zeros((1, 12), dtype=np.uint8)], 1)
    with pytest.raises(ValueError, match=r"0\.\.3"):
        png_bytes((3, 2), [np.zeros((2, 12), dtype=np.uint8)], 9)
    with pytest.raises(ValueError, match="at least 1"):
        Workers(0)
