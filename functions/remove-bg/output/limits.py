"""The longest side each encoder writes and the function takes: the one place these numbers live.

The request's parsers (target_size), the decoder (an input's side) and the layout (the output's
canvas) all read them here, so an output is refused from arithmetic before any pixel is moved,
rather than by an encoder's exception after the work (a 500). Measured with Pillow 13.0,
libjpeg-turbo (JPEG 6.2 API) and libwebp 1.6 by saving an N×2 picture and opening it again:

- JPEG: 65500 writes, 65501 fails ("broken data stream"): libjpeg's JPEG_MAX_DIMENSION.
- WebP: 16383 writes, 16384 fails ("Image size exceeds WebP limit"): WEBP_MAX_DIMENSION.
- PNG: our writer (png.py) and Pillow's write 70000 and more (the format allows 2^31 - 1); the
  function keeps its own 65535, the longest input side it takes, so a PNG's limit is that.
"""

from __future__ import annotations

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
