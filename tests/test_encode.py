"""The PNG writer: every pixel survives a round trip through Pillow's decoder, at every level."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from function.encode import png_bytes


def _roundtrip(image: Image.Image, level: int) -> Image.Image:
    decoded = Image.open(io.BytesIO(png_bytes(image, level)))
    decoded.load()  # verifies every chunk's CRC and the zlib stream's checksum
    return decoded


@pytest.mark.parametrize("level", [0, 1, 2, 3])
@pytest.mark.parametrize("size", [(1, 1), (1, 7), (7, 1), (333, 211)])
def test_random_rgba_round_trips_exactly(level: int, size: tuple[int, int]) -> None:
    pixels = np.random.default_rng(size[0] * 1000 + size[1]).integers(0, 256, (size[1], size[0], 4), dtype=np.uint8)
    decoded = _roundtrip(Image.fromarray(pixels, "RGBA"), level)
    assert decoded.mode == "RGBA"
    assert decoded.size == size
    assert np.array_equal(np.asarray(decoded), pixels)


def test_a_cutout_round_trips_and_is_smaller_than_pillows_fastest() -> None:
    from tests import images

    photo = images.photo("astronaut").resize((2048, 2048))
    alpha = Image.radial_gradient("L").resize(photo.size).point(lambda v: 0 if v > 160 else 255 - v)
    photo.putalpha(alpha)
    ours = png_bytes(photo, 1)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(ours))), np.asarray(photo))
    pillow = io.BytesIO()
    photo.save(pillow, "PNG", compress_level=1)
    assert len(ours) < len(pillow.getvalue())


def test_the_container_is_plain_png() -> None:
    body = png_bytes(Image.new("RGBA", (3, 2), (1, 2, 3, 4)), 1)
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    assert body[12:16] == b"IHDR"
    assert body[-12:] == b"\x00\x00\x00\x00IEND" + zlib.crc32(b"IEND").to_bytes(4, "big")


def test_only_rgba_and_known_levels() -> None:
    with pytest.raises(ValueError, match="RGBA"):
        png_bytes(Image.new("RGB", (2, 2)), 1)
    with pytest.raises(ValueError, match=r"0\.\.3"):
        png_bytes(Image.new("RGBA", (2, 2)), 9)
