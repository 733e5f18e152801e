"""The subject: the cut-out's alpha and the box around what the model found.

The box is found on the model's small mask first, and only that part of the full-size alpha is
searched for the exact edges, so the box every response carries in its headers costs almost
nothing. Where nothing is found, the alpha is cleared: a fully transparent picture, not the
model's faint noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageChops

from ..picture.mask import Mask

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
class Subject:
    alpha: Image.Image  # "L" at the picture's size
    box: Box | None  # None: nothing found, and `alpha` is all 0


def subject(mask: Mask, own_alpha: Image.Image | None) -> Subject:
    """The mask × the picture's own alpha (where it has one, as rembg composes it), and its box."""
    alpha = mask.full if own_alpha is None else ImageChops.multiply(mask.full, own_alpha)
    box = foreground_box(alpha, mask.small)
    if box is None:
        alpha = Image.new("L", alpha.size, 0)
    return Subject(alpha, box)


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
