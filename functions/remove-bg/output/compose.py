"""The arranged cut-out made into what an encoder takes: over a colour, as the mask alone, or as Delta PNG.

A PNG's pixels are composed a band of rows at a time, when its writer asks for them (png.py), so
no full-size RGBA copy of the picture is ever made; JPEG, WebP and zip's colour go to Pillow's
encoders as pictures. `auto` is decided here: JPEG where nothing is transparent and JPEG can hold the
canvas (a side up to 65500), else PNG.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..request.options import Options
from . import limits
from .layout import Arranged
from .png import Rows

WHITE = (255, 255, 255, 255)
# 255 where alpha is 0: where the colour is cleared, so fully transparent pixels compress well.
_CLEAR_WHERE_TRANSPARENT = [255] + [0] * 255
# Delta PNG: an opaque pixel is written as transparent white, "take the original's pixel", and a
# transparent one as 0. The model's alpha rarely reaches 255 exactly (its foreground is mostly
# 254 or 255, its background 0 or 1), so both ends take a step of 1/255: a client's composite is
# within 1/255 of the cut-out, and the file is small, which is Delta PNG's point.
DELTA_KEEP = np.array([255, 255, 255, 0], dtype=np.uint8)
DELTA_OPAQUE_FROM = 254
DELTA_CLEAR_UP_TO = 1


@dataclass(frozen=True)
class Composed:
    """What the encoder writes: `rows` as a PNG, `picture` with Pillow, or both (zip: colour and alpha)."""

    format: str  # png, jpeg, webp or zip
    content_type: str
    picture: Image.Image | None = None
    rows: Rows | None = None
    quality: int | None = None


def compose(arranged: Arranged, options: Options) -> Composed:
    rgb, alpha, quality = arranged.rgb, arranged.alpha, options.quality
    if options.only_mask:
        if options.format in ("png", "auto"):
            return Composed("png", "image/png", rows=mask_rows(alpha))
        return Composed(options.format, f"image/{options.format}", picture=alpha, quality=quality)
    if options.format == "delta_png":  # the options keep it to the identity layout; the decode worker, unscaled
        return Composed("png", "image/png", rows=delta_rows(rgb, alpha))
    if options.bg_color is not None:
        rgb, alpha = _over(rgb, alpha, options.bg_color)
    kind = options.format
    if kind == "auto":
        kind = "jpeg" if alpha.getextrema()[0] == 255 and limits.fits("jpeg", rgb.size) else "png"
    return _cutout(kind, rgb, alpha, quality)


def _cutout(kind: str, rgb: Image.Image, alpha: Image.Image, quality: int | None) -> Composed:
    """The cut-out (already over its background colour, if any) for `kind`'s encoder."""
    if kind == "png":
        return Composed("png", "image/png", rows=cutout_rows(rgb, alpha))
    if kind == "jpeg":
        return Composed("jpeg", "image/jpeg", picture=_over(rgb, alpha, WHITE)[0], quality=quality)
    if kind == "webp":
        image = rgb.copy()
        image.putalpha(alpha)
        return Composed("webp", "image/webp", picture=image, quality=quality)
    # remove.bg's zip: the colours as they are and the alpha apart, to be joined by the client
    return Composed("zip", "application/zip", picture=rgb, rows=mask_rows(alpha), quality=quality)


def _over(rgb: Image.Image, alpha: Image.Image, color: tuple[int, int, int, int]) -> tuple[Image.Image, Image.Image]:
    """The cut-out composited over a colour (which may itself be translucent)."""
    if alpha.getextrema()[0] == 255:
        return rgb, alpha
    if color[3] == 255:
        return Image.composite(rgb, Image.new("RGB", rgb.size, color[:3]), alpha), Image.new("L", rgb.size, 255)
    front = rgb.convert("RGBA")
    front.putalpha(alpha)
    both = Image.alpha_composite(Image.new("RGBA", rgb.size, color), front)
    return both.convert("RGB"), both.getchannel("A")


def cutout_rows(rgb: Image.Image, alpha: Image.Image) -> Rows:
    """The RGBA cut-out, its colour cleared where alpha is 0."""
    return Rows(rgb.size, 4, lambda rows, per_band: cutout_bands(rgb, alpha, rows, per_band))


def delta_rows(rgb: Image.Image, alpha: Image.Image) -> Rows:
    """Pixian's Delta PNG: 0x00000000 where transparent, 0x00FFFFFF where opaque, the cut-out's RGBA between."""
    return Rows(rgb.size, 4, lambda rows, per_band: _delta_bands(rgb, alpha, rows, per_band))


def mask_rows(alpha: Image.Image) -> Rows:
    """The alpha alone, grayscale."""

    def bands(rows: range, rows_per_band: int) -> Iterator[np.ndarray]:
        for box in _boxes(alpha.width, rows, rows_per_band):
            yield np.asarray(alpha.crop(box))

    return Rows(alpha.size, 1, bands)


def cutout_bands(rgb: Image.Image, alpha: Image.Image, rows: range, rows_per_band: int) -> Iterator[np.ndarray]:
    """RGBA rows `rows` of the cut-out, its colour cleared where alpha is 0, `rows_per_band` at a time, each
    band shaped (rows, width × 4)."""
    width = rgb.width
    for box in _boxes(width, rows, rows_per_band):
        band_alpha = alpha.crop(box)
        band = rgb.crop(box)
        band.putalpha(band_alpha)
        band.paste(0, mask=band_alpha.point(_CLEAR_WHERE_TRANSPARENT))
        yield np.asarray(band).reshape(band.height, width * 4)


def _delta_bands(rgb: Image.Image, alpha: Image.Image, rows: range, rows_per_band: int) -> Iterator[np.ndarray]:
    for band in cutout_bands(rgb, alpha, rows, rows_per_band):
        pixels = band.reshape(band.shape[0], -1, 4).copy()
        pixels[pixels[:, :, 3] <= DELTA_CLEAR_UP_TO] = 0
        pixels[pixels[:, :, 3] >= DELTA_OPAQUE_FROM] = DELTA_KEEP
        yield pixels.reshape(band.shape)


def _boxes(width: int, rows: range, rows_per_band: int) -> Iterator[tuple[int, int, int, int]]:
    for top in range(rows.start, rows.stop, rows_per_band):
        yield (0, top, width, min(top + rows_per_band, rows.stop))
