"""The PNG writer and the banded cut-out: every pixel survives a round trip through Pillow,
whether the image is deflated in one range of rows or in several at once."""

from __future__ import annotations

import io
import zlib
from itertools import pairwise

import numpy as np
import pytest
from PIL import Image

from function.compose import cutout_alpha, cutout_bands
from function.cutout import MIN_RANGE_PIXELS, CutoutWriter, row_ranges
from function.encode import adler32_combine, deflate_rows, png_from_parts
from function.workers import Workers
from tests import images


def _bands(pixels: np.ndarray, rows: int) -> list[np.ndarray]:
    flat = pixels.reshape(pixels.shape[0], -1)
    return [flat[top : top + rows] for top in range(0, flat.shape[0], rows)]


def png_bytes(size: tuple[int, int], bands: list[np.ndarray], level: int) -> bytes:
    """The whole image as one range of rows."""
    return png_from_parts(size, [deflate_rows(size[0], bands, None, level, final=True)])


def _decode(body: bytes) -> np.ndarray:
    decoded = Image.open(io.BytesIO(body))
    decoded.load()  # verifies every chunk's CRC and the zlib stream's checksum
    assert decoded.mode == "RGBA"
    return np.asarray(decoded)


@pytest.mark.parametrize("level", [0, 1, 2, 3])
@pytest.mark.parametrize(("size", "rows"), [((1, 1), 1), ((1, 7), 3), ((7, 1), 5), ((333, 211), 50), ((64, 64), 64)])
def test_random_rgba_round_trips_exactly(level: int, size: tuple[int, int], rows: int) -> None:
    pixels = np.random.default_rng(size[0] * 1000 + size[1]).integers(0, 256, (size[1], size[0], 4), dtype=np.uint8)
    assert np.array_equal(_decode(png_bytes(size, _bands(pixels, rows), level)), pixels)


def _photo_and_mask() -> tuple[Image.Image, Image.Image]:
    photo = images.photo("astronaut")
    mask = Image.radial_gradient("L").resize(photo.size).point(lambda v: 0 if v > 160 else 255 - v)
    return photo, mask


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_cutout_is_what_it_should_be(threads: int) -> None:
    photo, mask = _photo_and_mask()
    own_alpha = Image.linear_gradient("L").resize(photo.size)
    pixels = _decode(CutoutWriter(Workers(threads), 1).png(photo, cutout_alpha(mask, own_alpha)))
    expected_alpha = np.asarray(mask, dtype=np.uint32) * np.asarray(own_alpha) / 255
    assert np.abs(pixels[..., 3] - expected_alpha).max() <= 1
    kept = pixels[..., 3] > 0
    assert np.array_equal(pixels[kept][:, :3], np.asarray(photo)[kept])
    assert not pixels[~kept].any(), "RGB is zero where alpha is 0"


@pytest.mark.parametrize("size", [(1, 1), (1, 300), (300, 1), (257, 513), (1280, 960), (640, 2000)])
@pytest.mark.parametrize("threads", [2, 3, 8])
def test_several_ranges_give_the_same_pixels_as_one(size: tuple[int, int], threads: int) -> None:
    rng = np.random.default_rng(size[0] + size[1])
    rgb = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    alpha = Image.fromarray(rng.choice(np.array([0, 0, 1, 128, 255], dtype=np.uint8), (size[1], size[0])))
    if size[0] * size[1] >= 2 * MIN_RANGE_PIXELS:
        assert len(row_ranges(size, threads)) > 1, "this size really is written in several ranges"
    one = _decode(CutoutWriter(Workers(1), 1).png(rgb, alpha))
    several = CutoutWriter(Workers(threads), 1).png(rgb, alpha)
    assert np.array_equal(_decode(several), one)
    assert zlib.decompress(several[41:-16]), "the joined IDAT is one valid zlib stream"


def test_a_photo_is_split_across_the_cpus_and_a_thumbnail_is_not() -> None:
    assert row_ranges((1280, 960), 2) == [range(0, 480), range(480, 960)]
    assert len(row_ranges((4032, 3024), 4)) == 4
    assert row_ranges((100, 100), 2) == [range(0, 100)], "too small to be worth a second thread"
    assert row_ranges((100_000, 3), 8) == [range(0, 1), range(1, 2), range(2, 3)], "never an empty range"
    for size, most in [((1, 1), 1), ((5000, 7), 16), ((333, 211), 2), ((4032, 3024), 3)]:
        ranges = row_ranges(size, most)
        assert [row for rows in ranges for row in rows] == list(range(size[1]))
        assert len(ranges) == 1 or min(len(rows) for rows in ranges) * size[0] >= MIN_RANGE_PIXELS // 2


def test_parts_deflated_apart_join_into_one_png() -> None:
    pixels = np.random.default_rng(7).integers(0, 256, (211, 333, 4), dtype=np.uint8)
    flat = pixels.reshape(211, -1)
    cuts = [0, 1, 90, 91, 211]
    parts = [
        deflate_rows(333, _bands(pixels[top:bottom], 13), flat[top - 1] if top else None, 2, final=bottom == 211)
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


def test_smaller_than_pillows_fastest_png() -> None:
    photo = images.photo("astronaut").resize((2048, 2048))
    mask = Image.radial_gradient("L").resize(photo.size).point(lambda v: 0 if v > 160 else 255 - v)
    ours = CutoutWriter(Workers(2), 1).png(photo, mask)
    photo.putalpha(mask)
    photo.paste(0, mask=mask.point([255] + [0] * 255))
    assert np.array_equal(_decode(ours), np.asarray(photo))
    pillow = io.BytesIO()
    photo.save(pillow, "PNG", compress_level=1)
    assert len(ours) < len(pillow.getvalue())


def test_bands_cover_exactly_the_rows_asked_for() -> None:
    photo, mask = _photo_and_mask()
    bands = list(cutout_bands(photo, mask, range(5, 100), rows_per_band=37))
    assert [band.shape for band in bands] == [(37, 512 * 4), (37, 512 * 4), (21, 512 * 4)]


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
    with pytest.raises(ValueError, match=r"0\.\.3"):
        CutoutWriter(Workers(2), 4)
    with pytest.raises(ValueError, match="at least 1"):
        Workers(0)
