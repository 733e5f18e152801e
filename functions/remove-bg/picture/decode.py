"""Bytes → an RGB picture (and its own transparency), orientation applied, size checked first.

The pixel count is read from the header before any pixel is decoded, so a tiny file that claims
20000×20000 is refused without allocating it. A picture over `max_pixels` is scaled down to fit.

Two halves, so that the half that parses hostile bytes can run in a process of its own under
limits the kernel enforces (sandbox/): open_image() reads and checks the header, and read_pixels()
decodes into a buffer the caller allocates (shared memory there), the caller free to check the
header's size against its own limits between them; upright() turns the result upright and splits
off its transparency. decode() is all of it in one process.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import pillow_heif
from PIL import ExifTags, Image, UnidentifiedImageError

from ..errors import ApiError, CorruptImage, ImageTooLarge, UnsupportedImage
from ..output.limits import MAX_SIDE, fit_pixels

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
# What makes each EXIF orientation upright (the EXIF 2.3 table of orientations 2 to 8).
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# libwebp holds about 16.5 bytes per input pixel while it decodes, lossy or lossless (its own buffers, the
# animation decoder's canvas and Pillow's copy), twice what any other format costs: a WebP may have this
# share of the pixel limit, so its largest stays within DECODE_MEMORY_BYTES (docs/reliability.md, Memory).
WEBP_SHARE = 0.6
WEBP_WHY = f" for a WebP, whose decoder needs twice the memory of other formats ({WEBP_SHARE:.0%} of MAX_INPUT_PIXELS)"
CHUNK_HEADER = 8  # a PNG chunk's size and type
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_CRC = 4
# A PNG's chunks: a 30 MB body in 8 KB IDATs is under 4000; past this many the file is refused unread.
MAX_PNG_CHUNKS = 65536
LANCZOS_SUPPORT = 3  # source pixels either side of an output pixel, times the reduction factor
BAND_PIXELS = 1 << 20  # output pixels converted at a time


# Makes the picture's own buffer: (mode, size) → an empty picture of that mode and size.
Allocate = Callable[[str, tuple[int, int]], Image.Image]


@dataclass(frozen=True)
class Picture:
    rgb: Image.Image
    alpha: Image.Image | None
    format: str
    source_size: tuple[int, int]  # upright, before any scaling down


@dataclass(frozen=True)
class Pixels:
    """The decoded picture as stored in the file: RGB or RGBA, scaled to fit, not yet turned upright."""

    image: Image.Image
    format: str
    source_size: tuple[int, int]  # upright, before any scaling down
    orientation: int  # EXIF's, 1 to 8


def decode(data: bytes, max_input_pixels: int, max_pixels: int) -> Picture:
    """The picture in `data`; ImageTooLarge over `max_input_pixels`, scaled to fit `max_pixels`."""
    return upright(read_pixels(open_image(data, max_input_pixels), max_pixels, Image.new))


def open_image(data: bytes, max_input_pixels: int) -> Image.Image:
    """The image in `data` with its header read and its size checked, no pixel decoded yet (the caller may
    check the size against its own limits before it pays for the pixels)."""
    if data.startswith(PNG_SIGNATURE) and not _png_chunks_within(data, MAX_PNG_CHUNKS):
        raise CorruptImage(f"the PNG is cut into more than {MAX_PNG_CHUNKS} chunks; a real one has a few thousand")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        if _looks_like_ours(data):
            raise CorruptImage("the image header is truncated or corrupt") from None
        raise UnsupportedImage(f"not an image in a format this function reads ({', '.join(FORMATS)})") from None
    except Exception as exc:  # any failure to parse an untrusted header is the header's fault
        _reraise_memory(exc)
        log.info("the image header cannot be read: %s", exc)  # the decoder's own words: for the log, not the client
        raise CorruptImage(
            "the image header cannot be read: the file is cut short or not what its format says"
        ) from None
    width, height = image.size
    if max(width, height) > MAX_SIDE:
        raise ImageTooLarge(
            f"the image is {width}×{height}; no side may be over {MAX_SIDE} pixels (a fixed limit: no setting"
            " raises it); scale it down before sending"
        )
    limit = pixel_limit(data, max_input_pixels)
    if width * height > limit:
        raise ImageTooLarge(
            f"the image is {width}×{height} = {width * height} pixels; the limit is {limit}"
            + (WEBP_WHY if limit < max_input_pixels else " (MAX_INPUT_PIXELS)")
            + "; scale it down before sending, or raise MAX_INPUT_PIXELS within the pod's memory"
        )
    if width == 0 or height == 0:
        raise CorruptImage("the image has no pixels")
    return image


def read_pixels(image: Image.Image, max_pixels: int, allocate: Allocate) -> Pixels:
    """The pixels of `image` (from open_image), decoded (or converted and scaled) into a picture `allocate`
    makes."""
    try:
        return _to_pixels(image, max_pixels, allocate)
    except ApiError:
        raise
    except Exception as exc:  # truncated or corrupt pixel data
        _reraise_memory(exc)
        log.info("the image data cannot be decoded: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
        raise CorruptImage("the image data is truncated or corrupt: send the whole file") from None


def _to_pixels(image: Image.Image, max_pixels: int, allocate: Allocate) -> Pixels:
    source_format = image.format or "unknown"
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    swapped = orientation in SWAPS_SIDES
    header_size = image.size
    source_size = (header_size[1], header_size[0]) if swapped else header_size
    upright_target = fit_pixels(source_size, max_pixels)
    target = (upright_target[1], upright_target[0]) if swapped else upright_target
    if target == header_size and image.mode == _wanted_mode(image) and image._im is None:
        # Nothing to convert or scale, and nothing decoded yet (a PNG's getexif() decodes it, to find an eXIf
        # chunk after the pixels): the decoder writes straight into the caller's buffer. Pillow's own
        # load_prepare() makes one only where none is set (Pillow is pinned; tests/function/test_sandbox.py).
        image.im = allocate(image.mode, header_size).im
    image.load()
    if image.size != header_size:  # the limits were checked against the header's size: no other is taken
        raise CorruptImage(
            "the image's pixels are {}×{}, not the {}×{} its header gives".format(*image.size, *header_size)
        )
    return Pixels(
        _converted_and_scaled(image, _wanted_mode(image), target, allocate), source_format, source_size, orientation
    )


def _wanted_mode(image: Image.Image) -> str:
    return "RGBA" if image.has_transparency_data else "RGB"


def upright(pixels: Pixels) -> Picture:
    """The picture turned upright (after scaling down: a copy of the small picture, not of the decoded one),
    its transparency apart, and None for an alpha that is opaque everywhere."""
    image = pixels.image
    if (turn := _TURNS.get(pixels.orientation)) is not None:
        image = image.transpose(turn)
    if image.mode == "RGB":
        return Picture(rgb=image, alpha=None, format=pixels.format, source_size=pixels.source_size)
    alpha = image.getchannel("A")
    return Picture(
        rgb=image.convert("RGB"),
        alpha=None if alpha.getextrema() == OPAQUE else alpha,
        format=pixels.format,
        source_size=pixels.source_size,
    )


def _converted_and_scaled(image: Image.Image, mode: str, target: tuple[int, int], allocate: Allocate) -> Image.Image:
    """`image` in `mode` at `target` size, converted a band of rows at a time into a picture `allocate` makes.

    The decoded picture is the one full-size buffer: a whole-image conversion (LA or P to RGBA,
    16-bit to 8) and the premultiplied copy Pillow's RGBA resize makes would each add another.
    Each band is cut with enough rows around it for LANCZOS's support, so the output rows are the
    ones a whole-image resize gives (LANCZOS, as rembg scales: the model then sees what rembg
    would for the picture at this size).
    """
    width, height = image.size
    if image.mode == mode and target == image.size:
        return image
    out = allocate(mode, target)
    scale = height / target[1]
    margin = math.ceil(LANCZOS_SUPPORT * max(1.0, scale)) + 1
    band_rows = max(1, BAND_PIXELS // max(1, target[0]))
    for top in range(0, target[1], band_rows):
        bottom = min(target[1], top + band_rows)
        y0, y1 = top * scale, bottom * scale
        crop_top, crop_bottom = max(0, math.floor(y0) - margin), min(height, math.ceil(y1) + margin)
        band = _in_mode(image.crop((0, crop_top, width, crop_bottom)), mode)
        if target != image.size:
            box = (0.0, y0 - crop_top, float(width), y1 - crop_top)
            band = band.resize((target[0], bottom - top), Image.Resampling.LANCZOS, box=box)
        else:
            band = band.crop((0, top - crop_top, width, bottom - crop_top))
        out.paste(band, (0, top))
    return out


def _in_mode(image: Image.Image, mode: str) -> Image.Image:
    if image.mode in HIGH_DEPTH_GRAY:  # Pillow's own conversion clips 16-bit values to 255
        image = image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    return image if image.mode == mode else image.convert(mode)


def pixel_limit(data: bytes, max_input_pixels: int) -> int:
    """The most pixels the picture in `data` may have: a share of the limit for a WebP."""
    return int(max_input_pixels * WEBP_SHARE) if _webp(data) else max_input_pixels


def _webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def _png_chunks_within(data: bytes, most: int) -> bool:
    """True if the PNG in `data` ends (IEND, or the data's end) within `most` chunks. Pillow reads every chunk
    in Python, about 3 µs each: a body of a million empty chunks would hold the slot for seconds."""
    offset = len(PNG_SIGNATURE)
    for _ in range(most):
        if offset + CHUNK_HEADER > len(data) or data[offset + 4 : offset + 8] == b"IEND":
            return True
        offset += CHUNK_HEADER + int.from_bytes(data[offset : offset + 4], "big") + PNG_CRC
    return offset + CHUNK_HEADER > len(data)


def _looks_like_ours(data: bytes) -> bool:
    """True if the bytes begin as one of FORMATS does: a broken image, not a foreign format."""
    if data.startswith(_SIGNATURES):
        return True
    if _webp(data):
        return True
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


_SIGNATURES = (b"\xff\xd8\xff", PNG_SIGNATURE, b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")


def _reraise_memory(exc: Exception) -> None:
    if isinstance(exc, MemoryError):
        raise exc
