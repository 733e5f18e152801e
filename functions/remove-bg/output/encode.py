"""The composed cut-out as the bytes of its format: PNG by our own writer, JPEG and WebP by Pillow's, zip of both."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

from ..errors import OutputTooLarge
from .compose import Composed
from .png import PngWriter

DEFAULT_JPEG_QUALITY = 90
# libwebp's effort (0 fastest .. 6 smallest). Lossless at 1 or more takes seconds for a phone photo,
# at 0 a fraction of one, for a file still smaller than the PNG; lossy costs little more at 1.
WEBP_LOSSLESS_METHOD = 0
WEBP_LOSSY_METHOD = 1
WEBP_PARTITION0_OVERFLOW = "encoding error 6"


def encode(composed: Composed, png: PngWriter) -> bytes:
    if composed.format == "png":
        return png.write(composed.rows)
    if composed.format == "jpeg":
        return _jpeg(composed.picture, composed.quality)
    if composed.format == "webp":
        return _webp(composed.picture, composed.quality)
    out = io.BytesIO()  # zip: color.jpg (the colours) and alpha.png (the alpha)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("color.jpg", _jpeg(composed.picture, composed.quality))
        archive.writestr("alpha.png", png.write(composed.rows))
    return out.getvalue()


def _jpeg(image: Image.Image, quality: int | None) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality or DEFAULT_JPEG_QUALITY)
    return out.getvalue()


def _webp(image: Image.Image, quality: int | None) -> bytes:
    """Lossless where no quality is asked for, lossy at that quality where one is.

    libwebp's lossy encoder keeps every block's prediction modes in a first partition of at most
    512 KB; a detailed picture of tens of megapixels at a high quality overflows it, and Pillow says
    only "encoding error 6" (VP8_ENC_ERROR_PARTITION0_OVERFLOW): the client's quality is what to change."""
    out = io.BytesIO()
    if quality is None:
        image.save(out, "WEBP", lossless=True, quality=0, method=WEBP_LOSSLESS_METHOD)
        return out.getvalue()
    try:
        image.save(out, "WEBP", quality=quality, method=WEBP_LOSSY_METHOD)
    except ValueError as exc:
        if WEBP_PARTITION0_OVERFLOW not in str(exc):
            raise
        raise OutputTooLarge(
            lambda names: (
                f"{names('quality')}={quality}: this picture is too detailed for a lossy WebP at that quality"
                f" (libwebp's first partition holds 512 KB of block modes); ask for a lower {names('quality')}, a"
                f" lossless WebP (no {names('quality')}), or {names('format')}=png"
            )
        ) from None
    return out.getvalue()
