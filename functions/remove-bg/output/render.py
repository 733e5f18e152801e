"""The cut-out in the form a request asks for: laid out, over a colour, as PNG, WebP, JPEG, Delta PNG or zip.

The plain full-size PNG (no options) lays nothing out and goes straight from the picture and its
alpha to the banded PNG writer. Everything else costs what it must: a crop or a margin makes a
canvas-size copy, a background colour one composite, and JPEG, WebP and zip are Pillow's encoders.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from PIL import Image

from ..request.options import Options
from .cutout import CutoutWriter
from .layout import Box, Layout, plan

DEFAULT_JPEG_QUALITY = 90
# WebP cannot hold a side longer than this; PNG and JPEG can go to 65535.
WEBP_MAX_SIDE = 16383
MAX_SIDE = 65535
# libwebp's effort (0 fastest .. 6 smallest). Lossless at 1 or more takes seconds for a phone photo,
# at 0 a fraction of one, for a file still smaller than the PNG; lossy costs little more at 1.
WEBP_LOSSLESS_METHOD = 0
WEBP_LOSSY_METHOD = 1
WHITE = (255, 255, 255, 255)
CONTENT_TYPES = {
    "png": "image/png",
    "delta_png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "zip": "application/zip",
}


@dataclass(frozen=True)
class Rendered:
    body: bytes
    content_type: str
    size: tuple[int, int]
    foreground: Box | None  # in the output's pixels


class Renderer:
    def __init__(self, writer: CutoutWriter) -> None:
        self._writer = writer

    def render(
        self, rgb: Image.Image, alpha: Image.Image, foreground: Box | None, options: Options, max_pixels: int
    ) -> Rendered:
        """`rgb` with `alpha` as `options` ask, never over `max_pixels`."""
        max_side = WEBP_MAX_SIDE if options.format == "webp" else MAX_SIDE
        layout = plan(rgb.size, foreground, options, max_pixels, max_side)
        rgb, alpha = _laid_out(rgb, alpha, layout)
        placed = None if foreground is None else layout.place(foreground)
        if options.only_mask:
            return Rendered(_mask(alpha, options, self._writer), _content_type(options, "png"), layout.canvas, placed)
        if options.format == "delta_png":  # the options' checks keep it to the identity layout
            return Rendered(self._writer.delta(rgb, alpha), "image/png", layout.canvas, placed)
        if options.bg_color is not None:
            rgb, alpha = _over(rgb, alpha, options.bg_color)
        kind = options.format
        if kind == "auto":
            kind = "jpeg" if alpha.getextrema()[0] == 255 else "png"
        body = {
            "png": lambda: self._writer.png(rgb, alpha),
            "jpeg": lambda: _jpeg(_over(rgb, alpha, WHITE)[0], options.quality),
            "webp": lambda: _webp(rgb, alpha, options.quality),
            "zip": lambda: _zip(rgb, alpha, options.quality, self._writer),
        }[kind]()
        return Rendered(body, CONTENT_TYPES[kind], layout.canvas, placed)


def _laid_out(rgb: Image.Image, alpha: Image.Image, layout: Layout) -> tuple[Image.Image, Image.Image]:
    if layout.identity:
        return rgb, alpha
    region, placed = layout.region.corners, layout.placed
    part_rgb, part_alpha = rgb.crop(region), alpha.crop(region)
    if placed.size != part_rgb.size:
        part_rgb = part_rgb.resize(placed.size, Image.Resampling.LANCZOS)
        part_alpha = part_alpha.resize(placed.size, Image.Resampling.LANCZOS)
    canvas_rgb, canvas_alpha = Image.new("RGB", layout.canvas), Image.new("L", layout.canvas)
    canvas_rgb.paste(part_rgb, (placed.left, placed.top))
    canvas_alpha.paste(part_alpha, (placed.left, placed.top))
    return canvas_rgb, canvas_alpha


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


def _mask(alpha: Image.Image, options: Options, writer: CutoutWriter) -> bytes:
    if options.format in ("png", "auto"):
        return writer.mask(alpha)
    out = io.BytesIO()
    if options.format == "jpeg":
        alpha.save(out, "JPEG", quality=options.quality or DEFAULT_JPEG_QUALITY)
    else:
        _save_webp(alpha, out, options.quality)
    return out.getvalue()


def _content_type(options: Options, auto: str) -> str:
    return CONTENT_TYPES[auto if options.format == "auto" else options.format]


def _jpeg(rgb: Image.Image, quality: int | None) -> bytes:
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=quality or DEFAULT_JPEG_QUALITY)
    return out.getvalue()


def _webp(rgb: Image.Image, alpha: Image.Image, quality: int | None) -> bytes:
    image = rgb.copy()
    image.putalpha(alpha)
    out = io.BytesIO()
    _save_webp(image, out, quality)
    return out.getvalue()


def _save_webp(image: Image.Image, out: io.BytesIO, quality: int | None) -> None:
    if quality is None:
        image.save(out, "WEBP", lossless=True, quality=0, method=WEBP_LOSSLESS_METHOD)
    else:
        image.save(out, "WEBP", quality=quality, method=WEBP_LOSSY_METHOD)


def _zip(rgb: Image.Image, alpha: Image.Image, quality: int | None, writer: CutoutWriter) -> bytes:
    """remove.bg's zip: color.jpg (the colours) and alpha.png (the alpha), to be joined by the client."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("color.jpg", _jpeg(rgb, quality))
        archive.writestr("alpha.png", writer.mask(alpha))
    return out.getvalue()
