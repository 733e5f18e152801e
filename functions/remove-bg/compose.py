"""The cut-out: the picture with the mask as alpha, and no colour left where alpha is 0."""

from __future__ import annotations

from PIL import Image, ImageChops

# 255 where alpha is 0: where the colour is cleared, so fully transparent pixels compress well.
_CLEAR_WHERE_TRANSPARENT = [255] + [0] * 255


def cutout(rgb: Image.Image, mask: Image.Image, alpha: Image.Image | None = None) -> Image.Image:
    """RGBA from `rgb` (consumed, changed in place), alpha = mask × the picture's own alpha."""
    if alpha is not None:
        mask = ImageChops.multiply(mask, alpha)
    rgb.putalpha(mask)
    rgb.paste(0, mask=mask.point(_CLEAR_WHERE_TRANSPARENT))
    return rgb
