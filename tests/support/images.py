"""Test images: real photos shipped with scikit-image, encoded every way a client may send them."""

from __future__ import annotations

import functools
import io
from functools import cache

import numpy as np
import pillow_heif
from PIL import ExifTags, Image
from skimage import data

from harness.pngs import raw_png

PHOTOS = ("astronaut", "chelsea", "coffee")

pillow_heif.register_heif_opener()


@cache
def _photo_array(name: str) -> np.ndarray:
    return getattr(data, name)()


def photo(name: str = "astronaut") -> Image.Image:
    """A real RGB photo (512×512 astronaut, 451×300 chelsea, 600×400 coffee)."""
    return Image.fromarray(_photo_array(name))


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def jpeg(image: Image.Image | None = None, **options: object) -> bytes:
    return encode(image or photo(), "JPEG", quality=90, **options)


def jpeg_with_orientation(image: Image.Image, orientation: int) -> bytes:
    """A JPEG whose pixels are stored as-is, with an EXIF orientation tag for viewers to apply."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return jpeg(image, exif=exif)


def heic(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    pillow_heif.from_pillow(image).save(buffer, format="HEIF", quality=90)
    return buffer.getvalue()


def animated(fmt: str, frames: list[Image.Image]) -> bytes:
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def png16_rgb(image: Image.Image) -> bytes:
    """48-bit RGB PNG of `image` (each 8-bit value v stored as v * 257)."""
    array = (np.asarray(image.convert("RGB")).astype(">u2") * 257).astype(">u2")
    rows = [array[y].tobytes() for y in range(array.shape[0])]
    return raw_png(image.width, image.height, 16, 2, rows)


def png16_gray(image: Image.Image) -> bytes:
    array = (np.asarray(image.convert("L")).astype(np.uint16) * 257).astype(np.uint16)
    return encode(Image.fromarray(array), "PNG")


def decode_png(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    assert image.format == "PNG"
    image.load()
    return image


def decode_rgba(body: bytes) -> Image.Image:
    """A PNG cut-out, every chunk's CRC and the zlib stream's checksum verified by loading it."""
    image = decode_png(body)
    assert image.mode == "RGBA", image.mode
    return image


def extended_webp(image: Image.Image, **options: object) -> bytes:
    """A WebP with VP8X, where unknown chunks may stand: Pillow writes one when given any EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = "x"
    return encode(image, "WEBP", exif=exif.tobytes(), **options)


def webp_behind_chunks(webp: bytes, count: int) -> bytes:
    """`webp` (an extended file, with VP8X) with `count` empty chunks of an unknown kind after VP8X, which
    libwebp skips: the picture decodes as before."""
    body = webp[12:]
    assert body[:4] == b"VP8X", "an extended WebP: Pillow writes one when given EXIF or an animation"
    padding = b"XPAD\x00\x00\x00\x00" * count
    body = body[:18] + padding + body[18:]
    return b"RIFF" + (4 + len(body)).to_bytes(4, "little") + b"WEBP" + body


@functools.cache
def slow_png() -> bytes:
    """24 MP, made once, at zlib's fastest level: inflating costs about the same at any level, and the highest
    made the quick loop wait for it (CHANGES.md). Long to decode beside the tests' limits, ~100 MB decoded."""
    return encode(photo("chelsea").resize((6000, 4000)), "PNG", compress_level=1)
