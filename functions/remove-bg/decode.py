"""Bytes → an RGB picture (and its own transparency), orientation applied, size checked first.

The pixel count is read from the header before any pixel is decoded, so a tiny file that claims
20000×20000 is refused without allocating it. A picture over `max_pixels` is scaled down to fit.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass

import pillow_heif
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

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
SWAPS_SIDES = (5, 6, 7, 8)  # EXIF orientations that turn the picture by 90°


@dataclass(frozen=True)
class Picture:
    rgb: Image.Image
    alpha: Image.Image | None
    format: str
    source_size: tuple[int, int]  # upright, before any scaling down


def decode(data: bytes, max_input_pixels: int, max_pixels: int) -> Picture:
    """The picture in `data`; ImageTooLarge over `max_input_pixels`, scaled to fit `max_pixels`."""
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
    if width * height > max_input_pixels:
        raise ImageTooLarge(f"the image is {width}×{height} = {width * height} pixels; the limit is {max_input_pixels}")
    if width == 0 or height == 0:
        raise CorruptImage("the image has no pixels")
    try:
        return _to_picture(image, max_pixels)
    except Exception as exc:  # truncated or corrupt pixel data
        _reraise_memory(exc)
        log.debug("decoding failed", exc_info=True)
        raise CorruptImage(f"the image data is truncated or corrupt: {exc}") from None


def _to_picture(image: Image.Image, max_pixels: int) -> Picture:
    source_format = image.format or "unknown"
    width, height = image.size
    swapped = image.getexif().get(ExifTags.Base.Orientation, 1) in SWAPS_SIDES
    source_size = (height, width) if swapped else (width, height)
    image.load()
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode in HIGH_DEPTH_GRAY:
        image = image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    wanted_mode = "RGBA" if image.has_transparency_data else "RGB"
    if image.mode != wanted_mode:
        image = image.convert(wanted_mode)
    target = fit_pixels(image.size, max_pixels)
    if target != image.size:
        # LANCZOS, as rembg scales: then the model sees what rembg would for the picture at this size.
        image = image.resize(target, Image.Resampling.LANCZOS)
    if wanted_mode == "RGB":
        return Picture(rgb=image, alpha=None, format=source_format, source_size=source_size)
    alpha = image.getchannel("A")
    return Picture(
        rgb=image.convert("RGB"),
        alpha=None if alpha.getextrema() == OPAQUE else alpha,
        format=source_format,
        source_size=source_size,
    )


def fit_pixels(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """The largest size with the same aspect ratio and at most `max_pixels` pixels."""
    width, height = size
    if width * height <= max_pixels:
        return size
    scale = math.sqrt(max_pixels / (width * height))
    return (max(1, math.floor(width * scale)), max(1, math.floor(height * scale)))


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
