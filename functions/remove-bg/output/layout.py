"""Where the cut-out goes on the output's canvas (crop, margin, target size), and the pixels moved there.

The plan is arithmetic on boxes; arrange() then moves the pixels, and only when the plan is not
the picture as it is: a crop or a margin makes one canvas-size copy. A canvas over the pixel limit
is scaled down to fit (limits.fit_pixels, as the decoder scales a picture), and what lands on it is
rounded onto it: never a pixel past its edge, never less than a pixel. One with a side longer than
the format's encoder writes is refused by the plan (OutputTooLarge, naming the option that makes it
so), before any pixel is moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from ..errors import Naming, OutputTooLarge
from ..request.options import Options
from . import limits
from .subject import Box, Subject


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
        """`box`, in the picture's pixels, in the canvas's pixels (within where the region is placed)."""
        region, placed = self.region, self.placed
        scale_x, scale_y = placed.width / region.width, placed.height / region.height
        left, top = (box.left - region.left) * scale_x, (box.top - region.top) * scale_y
        right, bottom = left + box.width * scale_x, top + box.height * scale_y
        return _rounded(placed, (left, top, right, bottom))


@dataclass(frozen=True)
class Arranged:
    """The cut-out's pixels on the output's canvas."""

    rgb: Image.Image  # at the canvas's size
    alpha: Image.Image
    foreground: Box | None  # the subject's box, in the canvas's pixels


def arrange(rgb: Image.Image, subject: Subject, options: Options, max_pixels: int) -> Arranged:
    """`rgb` and the subject's alpha laid out as `options` ask, never over `max_pixels`; OutputTooLarge for a
    side the format cannot hold."""
    layout = plan(rgb.size, subject.box, options, max_pixels)
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


def check(size: tuple[int, int], options: Options, max_pixels: int) -> None:
    """OutputTooLarge now, for what can be known before the mask is made: the canvas without a crop, or a
    target size's (a crop only makes the canvas smaller, so one that fits without it is not checked)."""
    if not options.crop or options.target_size is not None:
        plan(size, None, options, max_pixels)


def plan(size: tuple[int, int], foreground: Box | None, options: Options, max_pixels: int) -> Layout:
    """The layout `options` ask for, scaled down if need be to at most `max_pixels`; OutputTooLarge if a side
    is still longer than the format's encoder writes."""
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
        lowered = {"top": 0, "middle": spare // 2, "bottom": spare}[options.vertical_alignment]
        offset = ((canvas[0] - used[0]) // 2, lowered)
    fitted = limits.fit_pixels(canvas, max_pixels)
    across, down = fitted[0] / canvas[0], fitted[1] / canvas[1]  # each side's own: a side of 1 px stays 1
    if not limits.fits(options.format, fitted):
        raise OutputTooLarge(_too_long(fitted, (round(region.width * across), round(region.height * down)), options))
    x, y = (offset[0] + left * scale) * across, (offset[1] + top * scale) * down
    edges = (x, y, x + region.width * scale * across, y + region.height * scale * down)
    return Layout(picture=size, region=region, placed=_rounded(Box(0, 0, *fitted), edges), canvas=fitted)


def _rounded(within: Box, edges: tuple[float, float, float, float]) -> Box:
    """The box with these edges (left, top, right, bottom from `within`'s corner, not yet whole pixels) rounded
    to whole pixels, at least one each way and all of it inside `within`: rounding may neither cut the
    subject's last row nor put it past the canvas's edge."""
    left = min(max(0, round(edges[0])), within.width - 1)
    top = min(max(0, round(edges[1])), within.height - 1)
    right = min(max(left + 1, round(edges[2])), within.width)
    bottom = min(max(top + 1, round(edges[3])), within.height)
    return Box(within.left + left, within.top + top, right - left, bottom - top)


def _too_long(canvas: tuple[int, int], picture: tuple[int, int], options: Options) -> Callable[[Naming], str]:
    """The words for a canvas longer than its encoder writes, naming what makes it so (the target size; else
    the format, if the picture alone is too long for it; else the margin) and what to send instead.
    `picture` is the (cropped) picture's size on the canvas, without the margin."""
    side, encoder = limits.max_side(options.format), limits.ENCODERS[options.format]
    over = f"{canvas[0]}×{canvas[1]} px, over the {side} px {encoder} may have on a side"
    png_holds = max(canvas) <= limits.MAX_SIDE

    def room(longest: int) -> str:
        """How much margin fits within `longest`, on the side that is over."""
        return (
            f"{longest - picture[0]} px across (left + right)"
            if canvas[0] > longest
            else f"{longest - picture[1]} px down (top + bottom)"
        )

    def words(names: Naming) -> str:
        png = f"{names('format')}=png (up to {limits.MAX_SIDE} px a side)"
        if options.target_size is not None:
            field = names("target_size")
            instead = f", or {png}" if png_holds else ""
            return f"{field}: the output would be {over}; send a {field} within {side}x{side}{instead}"
        if not limits.fits(options.format, picture):
            field = names("format")
            margin = "" if png_holds else f" with a {names('margin')} that adds at most {room(limits.MAX_SIDE)}"
            return f"{field}: the output would be {over}; send {png}{margin}, or a smaller image"
        field = names("margin")
        instead = f", or {png}" if png_holds and side < limits.MAX_SIDE else ""
        return f"{field}: the margin makes the output {over}; send one that adds at most {room(side)}{instead}"

    return words
