"""The PNG writer and the banded cut-out: every pixel survives a round trip through Pillow."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from function.compose import cutout_bands
from function.encode import png_bytes, rows_per_band
from tests import images


def _bands(pixels: np.ndarray, rows: int) -> list[np.ndarray]:
    flat = pixels.reshape(pixels.shape[0], -1)
    return [flat[top : top + rows] for top in range(0, flat.shape[0], rows)]


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


def test_the_cutout_bands_compose_what_they_should() -> None:
    photo = images.photo("astronaut")
    mask = Image.radial_gradient("L").resize(photo.size).point(lambda v: 0 if v > 160 else 255 - v)
    own_alpha = Image.linear_gradient("L").resize(photo.size)
    body = png_bytes(photo.size, cutout_bands(photo.copy(), mask, own_alpha, rows_per_band=37), 1)
    pixels = _decode(body)
    expected_alpha = np.asarray(mask, dtype=np.uint32) * np.asarray(own_alpha) / 255
    assert np.abs(pixels[..., 3] - expected_alpha).max() <= 1
    kept = pixels[..., 3] > 0
    assert np.array_equal(pixels[kept][:, :3], np.asarray(photo)[kept])
    assert not pixels[~kept].any(), "RGB is zero where alpha is 0"


def test_smaller_than_pillows_fastest_png() -> None:
    photo = images.photo("astronaut").resize((2048, 2048))
    mask = Image.radial_gradient("L").resize(photo.size).point(lambda v: 0 if v > 160 else 255 - v)
    ours = png_bytes(photo.size, cutout_bands(photo.copy(), mask, None, rows_per_band(2048)), 1)
    photo.putalpha(mask)
    photo.paste(0, mask=mask.point([255] + [0] * 255))
    assert np.array_equal(_decode(ours), np.asarray(photo))
    pillow = io.BytesIO()
    photo.save(pillow, "PNG", compress_level=1)
    assert len(ours) < len(pillow.getvalue())


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
