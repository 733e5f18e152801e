"""Where the foreground is, and where the cut-out goes on the output's canvas (crop, margin, target size).

The foreground's box is found on the model's small mask first, and only that part of the
full-size alpha is searched for the exact edges, so the headers every response carries cost
almost nothing. The layout is arithmetic on boxes; output.py moves the pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

from ..request.options import Options

# A pixel counts as foreground from this alpha up (12.5 %): the model's faint background noise
# (alpha of a few units over much of a photo) must not stretch the box to the whole frame.
FOREGROUND_ALPHA = 32
_FOREGROUND = [0] * FOREGROUND_ALPHA + [255] * (256 - FOREGROUND_ALPHA)


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    width: int
    height: int

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def corners(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.left + self.width, self.top + self.height)


@dataclass(frozen=True)
class Layout:
    region: Box  # the part of the picture that is kept
    placed: Box  # where that part lands on the canvas, scaled to this size
    canvas: tuple[int, int]

    @property
    def identity(self) -> bool:
        return self.region == self.placed and self.canvas == self.region.size

    def place(self, box: Box) -> Box:
        """`box`, in the picture's pixels, in the canvas's pixels."""
        region, placed = self.region, self.placed
        scale_x, scale_y = placed.width / region.width, placed.height / region.height
        left = placed.left + round((box.left - region.left) * scale_x)
        top = placed.top + round((box.top - region.top) * scale_y)
        right = placed.left + round((box.left + box.width - region.left) * scale_x)
        bottom = placed.top + round((box.top + box.height - region.top) * scale_y)
        return Box(left, top, max(1, right - left), max(1, bottom - top))


def foreground_box(alpha: Image.Image, small_mask: Image.Image) -> Box | None:
    """The box of the pixels with alpha ≥ FOREGROUND_ALPHA; None when there are none.

    `alpha` is (at most) `small_mask` scaled up bilinearly, so a pixel can reach the threshold only
    near a small-mask pixel that does: the search is narrowed to the small box, grown by the
    filter's reach.
    """
    found = small_mask.point(_FOREGROUND).getbbox()
    if found is None:
        return None
    scale_x, scale_y = alpha.width / small_mask.width, alpha.height / small_mask.height
    reach_x, reach_y = 1 + math.ceil(1 / scale_x), 1 + math.ceil(1 / scale_y)
    near = (
        max(0, math.floor((found[0] - reach_x) * scale_x)),
        max(0, math.floor((found[1] - reach_y) * scale_y)),
        min(alpha.width, math.ceil((found[2] + reach_x) * scale_x)),
        min(alpha.height, math.ceil((found[3] + reach_y) * scale_y)),
    )
    exact = alpha.crop(near).point(_FOREGROUND).getbbox()
    if exact is None:
        return None
    return Box(near[0] + exact[0], near[1] + exact[1], exact[2] - exact[0], exact[3] - exact[1])


def plan(size: tuple[int, int], foreground: Box | None, options: Options, max_pixels: int, max_side: int) -> Layout:
    """The layout `options` ask for, scaled down if need be to at most `max_pixels` and `max_side`."""
    region = foreground if options.crop and foreground is not None else Box(0, 0, *size)
    margin = options.margin
    left, right = margin.left.pixels(region.width), margin.right.pixels(region.width)
    top, bottom = margin.top.pixels(region.height), margin.bottom.pixels(region.height)
    content = (region.width + left + right, region.height + top + bottom)
    canvas, scale, offset = content, 1.0, (0, 0)
    if options.target_size is not None:
        canvas = options.target_size
        scale = min(canvas[0] / content[0], canvas[1] / content[1])
        used = (round(content[0] * scale), round(content[1] * scale))
        spare = canvas[1] - used[1]
        down = {"top": 0, "middle": spare // 2, "bottom": spare}[options.vertical_alignment]
        offset = ((canvas[0] - used[0]) // 2, down)
    fit = min(1.0, math.sqrt(max_pixels / (canvas[0] * canvas[1])), max_side / canvas[0], max_side / canvas[1])
    if fit < 1.0:
        canvas = (max(1, math.floor(canvas[0] * fit)), max(1, math.floor(canvas[1] * fit)))
        scale, offset = scale * fit, (math.floor(offset[0] * fit), math.floor(offset[1] * fit))
    placed = Box(
        offset[0] + round(left * scale),
        offset[1] + round(top * scale),
        max(1, min(canvas[0], round(region.width * scale))),
        max(1, min(canvas[1], round(region.height * scale))),
    )
    return Layout(region=region, placed=placed, canvas=canvas)
