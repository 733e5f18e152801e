"""Bytes → an RGB picture (and its own transparency), orientation applied, size checked first.

The pixel count is read from the header before any pixel is decoded, so a tiny file that claims
20000×20000 is refused without allocating it.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import CorruptImage, ImageTooLarge, UnsupportedImage

log = logging.getLogger(__name__)

pillow_heif.register_heif_opener(thumbnails=False)
Image.init()  # register every plugin now, so open(formats=...) can name any of them
# Pillow's own decompression-bomb guard is replaced by the configured limit checked in decode().
Image.MAX_IMAGE_PIXELS = None

# The JPEG plugin also opens MPO (as many phones write JPEG); AVIF is Pillow's own plugin, HEIF comes from pillow-heif.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF")
HIGH_DEPTH_GRAY = ("I;16", "I;16B", "I;16L", "I;16N", "I")
OPAQUE = (255, 255)


@dataclass(frozen=True)
class Picture:
    rgb: Image.Image
    alpha: Image.Image | None
    format: str

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.size


def decode(data: bytes, max_pixels: int) -> Picture:
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        if _looks_like_ours(data):
            raise CorruptImage("the image header is truncated or corrupt") from None
        raise UnsupportedImage(f"not an image in a format this function reads ({', '.join(FORMATS)})") from None
    except Exception as exc:  # any failure to parse an untrusted header is the header's fault
        _reraise_memory(exc)
        raise CorruptImage(f"the image header cannot be read: {exc}") from None
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLarge(f"the image is {width}×{height} = {width * height} pixels; the limit is {max_pixels}")
    if width == 0 or height == 0:
        raise CorruptImage("the image has no pixels")
    try:
        return _to_picture(image)
    except Exception as exc:  # truncated or corrupt pixel data
        _reraise_memory(exc)
        log.debug("decoding failed", exc_info=True)
        raise CorruptImage(f"the image data is truncated or corrupt: {exc}") from None


def _to_picture(image: Image.Image) -> Picture:
    source_format = image.format or "unknown"
    image.load()
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode in HIGH_DEPTH_GRAY:
        image = image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    alpha = None
    if image.has_transparency_data:
        image = image.convert("RGBA")
        alpha = image.getchannel("A")
        if alpha.getextrema() == OPAQUE:
            alpha = None
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return Picture(rgb=rgb, alpha=alpha, format=source_format)


def _looks_like_ours(data: bytes) -> bool:
    """True if the bytes begin as one of FORMATS does: a broken image, not a foreign format."""
    if data.startswith(_SIGNATURES):
        return True
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return True
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")


def _reraise_memory(exc: Exception) -> None:
    if isinstance(exc, MemoryError):
        raise exc
