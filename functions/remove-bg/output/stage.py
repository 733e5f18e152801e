"""The output stage, one way: the picture and its mask in, the response's bytes out.

subject (alpha and box) → layout (where it goes, pixels moved) → compose (over a colour, mask
alone, Delta PNG) → encode (the format's bytes): each module once, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..picture.decode import Picture
from ..picture.mask import Mask
from ..process.workers import Workers
from ..request.options import Options
from .compose import compose
from .encode import encode
from .layout import arrange
from .png import PngWriter
from .subject import Box, subject


@dataclass(frozen=True)
class Result:
    body: bytes
    content_type: str
    size: tuple[int, int]
    foreground: Box | None  # in the output's pixels; None when nothing was found
    source_size: tuple[int, int]
    source_format: str
    seconds: dict[str, float] = field(default_factory=dict)  # by stage: decode, mask, cutout (compose, encode)


class Output:
    def __init__(self, workers: Workers, png_compress_level: int) -> None:
        self._png = PngWriter(workers, png_compress_level)

    def render(self, picture: Picture, mask: Mask, options: Options, max_pixels: int) -> Result:
        """The cut-out of `picture` as `options` ask, never over `max_pixels`."""
        arranged = arrange(picture.rgb, subject(mask, picture.alpha), options, max_pixels)
        composed = compose(arranged, options)
        body = encode(composed, self._png)
        size = arranged.rgb.size
        return Result(body, composed.content_type, size, arranged.foreground, picture.source_size, picture.format)
