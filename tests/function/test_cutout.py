"""The cut-out: the mask as alpha, colour cleared where alpha is 0, and the same pixels whether
its rows are composed and deflated in one range or in several at once."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from function.output.compose import cutout_bands, cutout_rows
from function.output.png import MIN_RANGE_PIXELS, PngWriter, row_ranges
from function.output.subject import subject
from function.picture.mask import Mask
from function.process.workers import Workers
from tests.support import images


def _decode(body: bytes) -> np.ndarray:
    return np.asarray(images.decode_rgba(body))


def _png(threads: int, rgb: Image.Image, alpha: Image.Image) -> bytes:
    return PngWriter(Workers(threads), 1).write(cutout_rows(rgb, alpha))


def _photo_and_mask() -> tuple[Image.Image, Image.Image]:
    photo = images.photo("astronaut")
    mask = Image.radial_gradient("L").resize(photo.size).point(lambda v: 0 if v > 160 else 255 - v)
    return photo, mask


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_cutout_is_what_it_should_be(threads: int) -> None:
    photo, mask = _photo_and_mask()
    own_alpha = Image.linear_gradient("L").resize(photo.size)
    alpha = subject(Mask(full=mask, small=mask.resize((32, 32))), own_alpha).alpha
    pixels = _decode(_png(threads, photo, alpha))
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
    one = _decode(_png(1, rgb, alpha))
    several = _png(threads, rgb, alpha)
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


def test_smaller_than_pillows_fastest_png() -> None:
    photo = images.photo("astronaut").resize((2048, 2048))
    mask = Image.radial_gradient("L").resize(photo.size).point(lambda v: 0 if v > 160 else 255 - v)
    ours = _png(2, photo, mask)
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
