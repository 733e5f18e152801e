"""The longest side each encoder writes and the function takes, and a request's pixel limit: the one place each lives.

The request's parsers (target_size), the decoder (an input's side) and the layout (the output's
canvas) all read them here, so an output is refused from arithmetic before any pixel is moved,
rather than by an encoder's exception after the work (a 500). The pixel limit (MAX_PIXELS, within
it the request's max_pixels) is worked out here for the decode worker, which scales the picture to
it, and for the layout, which fits the canvas to it, so the two cannot disagree.

The sides, measured with Pillow 13.0, libjpeg-turbo (JPEG 6.2 API) and libwebp 1.6 by saving an
N×2 picture and opening it again:

- JPEG: 65500 writes, 65501 fails ("broken data stream"): libjpeg's JPEG_MAX_DIMENSION.
- WebP: 16383 writes, 16384 fails ("Image size exceeds WebP limit"): WEBP_MAX_DIMENSION.
- PNG: our writer (png.py) and Pillow's write 70000 and more (the format allows 2^31 - 1); the
  function keeps its own 65535, the longest input side it takes, so a PNG's limit is that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import Naming, OutputTooLarge

if TYPE_CHECKING:
    from ..request.options import Options

# The longest side of a picture the function takes, and of a PNG it writes: Pillow keeps a row
# pointer per row whatever the width, so a side is bounded even where the pixel count is not.
MAX_SIDE = 65_535
JPEG_MAX_SIDE = 65_500
WEBP_MAX_SIDE = 16_383
# By the output format as Options names it. zip carries color.jpg, so JPEG's side; auto is PNG's,
# JPEG being chosen only where it can hold the canvas (compose.py).
MAX_SIDES = {
    "png": MAX_SIDE,
    "delta_png": MAX_SIDE,
    "auto": MAX_SIDE,
    "jpeg": JPEG_MAX_SIDE,
    "zip": JPEG_MAX_SIDE,
    "webp": WEBP_MAX_SIDE,
}
# What each format's side limit is called in an error message.
ENCODERS = {
    "png": "a PNG",
    "delta_png": "a PNG",
    "auto": "a PNG",
    "jpeg": "a JPEG",
    "zip": "the zip's color.jpg (a JPEG)",
    "webp": "a WebP",
}


def max_side(output_format: str) -> int:
    """The longest side an output in `output_format` may have."""
    return MAX_SIDES[output_format]


def fits(output_format: str, size: tuple[int, int]) -> bool:
    return max(size) <= MAX_SIDES[output_format]


def fit_pixels(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """The largest size with the same aspect ratio (as near as whole pixels come) and at most `max_pixels`
    pixels. A side that rounds to 0 becomes 1, so the other gives way: a 65535×1 strip fits 100 px as 100×1."""
    width, height = size
    if width * height <= max_pixels:
        return size
    scale = math.sqrt(max_pixels / (width * height))
    if width <= height:
        new_width = max(1, math.floor(width * scale))
        return (new_width, min(math.floor(height * scale), max_pixels // new_width))
    new_height = max(1, math.floor(height * scale))
    return (min(math.floor(width * scale), max_pixels // new_height), new_height)


@dataclass(frozen=True)
class PixelLimit:
    """One request's pixel limit: the function's MAX_PIXELS and, within it, the request's own max_pixels
    (remove.bg's size). The decode worker scales the picture to `picture`; the layout fits the canvas to
    `canvas`; Delta PNG, the input's own size, is never scaled, so one over `picture` is refused."""

    setting: int  # MAX_PIXELS
    requested: int | None  # the request's max_pixels; None: not sent
    target_size: bool  # a target size is the caller's explicit canvas: only the function's limit bounds it
    unscaled: bool  # Delta PNG

    @classmethod
    def of(cls, setting: int, options: Options) -> PixelLimit:
        return cls(setting, options.max_pixels, options.target_size is not None, options.format == "delta_png")

    @property
    def picture(self) -> int:
        """The most pixels the picture the model sees may have."""
        return self.setting if self.requested is None else min(self.setting, self.requested)

    @property
    def canvas(self) -> int:
        """The most pixels the output's canvas may have."""
        return self.setting if self.target_size else self.picture

    def check_source(self, size: tuple[int, int]) -> None:
        """OutputTooLarge, from the image's header before a pixel is decoded, for a Delta PNG the limit would
        scale: it would no longer be the input's size, which is what a client composites it with."""
        pixels = size[0] * size[1]
        if not self.unscaled or pixels <= self.picture:
            return
        image = f"this image is {size[0]}×{size[1]} = {pixels} pixels"
        setting, requested = self.setting, self.requested

        def words(names: Naming) -> str:
            delta = f"{names('format')}: delta_png is the input's own size, never scaled, and {image}"
            if pixels > setting:
                return (
                    f"{delta}, over the function's MAX_PIXELS of {setting}; send an image of at most {setting} pixels,"
                    f" or another {names('format')} (scaled to fit)"
                )
            field = names("max_pixels")
            return f"{delta}, over the {field} of {requested} sent; send a {field} of at least {pixels}, or none"

        raise OutputTooLarge(words)
