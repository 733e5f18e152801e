"""Where the cut-out goes on the output's canvas (crop, margin, target size), and the pixels moved there.

The plan is arithmetic on boxes; arrange() then moves the pixels, and only when the plan is not
the picture as it is: a crop or a margin makes one canvas-size copy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

from ..request.options import Options
from .subject import Box, Subject

# WebP cannot hold a side longer than this; PNG and JPEG can go to 65535.
WEBP_MAX_SIDE = 16383
MAX_SIDE = 65535


@dataclass(frozen=True)
class Layout:
    picture: tuple[int, int]  # the picture's size
    region: Box  # the part of the picture that is kept
    placed: Box  # where that part lands on the canvas, scaled to this size
    canvas: tuple[int, int]

    @property
    def identity(self) -> bool:
        """The picture as it is: all of it kept, nothing moved. (A crop whose box starts at the corner keeps
        the region in place, but not all of the picture.)"""
        whole = Box(0, 0, *self.picture)
        return self.region == whole and self.placed == whole and self.canvas == self.picture

    def place(self, box: Box) -> Box:
        """`box`, in the picture's pixels, in the canvas's pixels."""
        region, placed = self.region, self.placed
        scale_x, scale_y = placed.width / region.width, placed.height / region.height
        left = placed.left + round((box.left - region.left) * scale_x)
        top = placed.top + round((box.top - region.top) * scale_y)
        right = placed.left + round((box.left + box.width - region.left) * scale_x)
        bottom = placed.top + round((box.top + box.height - region.top) * scale_y)
        return Box(left, top, max(1, right - left), max(1, bottom - top))


@dataclass(frozen=True)
class Arranged:
    """The cut-out's pixels on the output's canvas."""

    rgb: Image.Image  # at the canvas's size
    alpha: Image.Image
    foreground: Box | None  # the subject's box, in the canvas's pixels


def arrange(rgb: Image.Image, subject: Subject, options: Options, max_pixels: int) -> Arranged:
    """`rgb` and the subject's alpha laid out as `options` ask, never over `max_pixels` or a side the format
    cannot hold."""
    max_side = WEBP_MAX_SIDE if options.format == "webp" else MAX_SIDE
    layout = plan(rgb.size, subject.box, options, max_pixels, max_side)
    placed = None if subject.box is None else layout.place(subject.box)
    if layout.identity:
        return Arranged(rgb, subject.alpha, placed)
    region, where = layout.region.corners, layout.placed
    part_rgb, part_alpha = rgb.crop(region), subject.alpha.crop(region)
    if where.size != part_rgb.size:
        part_rgb = part_rgb.resize(where.size, Image.Resampling.LANCZOS)
        part_alpha = part_alpha.resize(where.size, Image.Resampling.LANCZOS)
    canvas_rgb, canvas_alpha = Image.new("RGB", layout.canvas), Image.new("L", layout.canvas)
    canvas_rgb.paste(part_rgb, (where.left, where.top))
    canvas_alpha.paste(part_alpha, (where.left, where.top))
    return Arranged(canvas_rgb, canvas_alpha, placed)


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
    return Layout(picture=size, region=region, placed=placed, canvas=canvas)
