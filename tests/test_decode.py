"""Decoding in bands: the same pixels as converting and scaling the whole picture at once."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from function.decode import _converted_and_scaled
from tests import images


@pytest.mark.parametrize(
    ("source_mode", "mode"), [("RGB", "RGB"), ("RGBA", "RGBA"), ("LA", "RGBA"), ("P", "RGB"), ("L", "RGB")]
)
@pytest.mark.parametrize(
    ("size", "target"), [((3000, 2000), (1200, 800)), ((901, 5003), (300, 1667)), ((700, 500), (700, 500))]
)
def test_banded_conversion_matches_the_whole_image(source_mode: str, mode: str, size, target) -> None:
    photo = images.photo("chelsea").resize(size, Image.Resampling.BICUBIC)
    if source_mode in ("RGBA", "LA"):
        photo.putalpha(Image.linear_gradient("L").resize(size))
    source = photo.convert(source_mode)
    ours = np.asarray(_converted_and_scaled(source, mode, target), dtype=np.int16)
    whole = source.convert(mode)
    whole = whole if whole.size == target else whole.resize(target, Image.Resampling.LANCZOS)
    difference = np.abs(ours - np.asarray(whole, dtype=np.int16))
    assert difference.max() <= 1, "rounding of the band's float box at most"
    assert difference.mean() < 0.01
