"""The cut-out as a PNG: the picture with the mask as alpha and no colour left where alpha is 0.

It is composed a band of rows at a time, straight into the encoder, so no full-size RGBA copy of
the picture is ever made; and in as many row ranges at once as there are CPUs, because composing
and deflating would otherwise run on one CPU while the others idle. The result is a plain
single-IDAT PNG either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import numpy as np
from PIL import Image, ImageChops

from .encode import Deflated, deflate_rows, png_from_parts, rows_per_band
from .workers import Workers

# Below this many pixels per range, handing a range to another thread costs more than it saves.
MIN_RANGE_PIXELS = 64 * 1024
# 255 where alpha is 0: where the colour is cleared, so fully transparent pixels compress well.
_CLEAR_WHERE_TRANSPARENT = [255] + [0] * 255


def cutout_alpha(mask: Image.Image, own_alpha: Image.Image | None) -> Image.Image:
    """The cut-out's alpha: the mask × the picture's own alpha (where it has one), as rembg composes it."""
    return mask if own_alpha is None else ImageChops.multiply(mask, own_alpha)


class CutoutWriter:
    """Writes cut-outs as PNGs, each spread over the workers' threads."""

    def __init__(self, workers: Workers, compress_level: int) -> None:
        self._workers = workers
        self._level = compress_level

    def png(self, rgb: Image.Image, alpha: Image.Image) -> bytes:
        """The PNG of `rgb` with `alpha`, its colour cleared where alpha is 0."""
        ranges = row_ranges(rgb.size, self._workers.threads)
        parts = self._workers.map(lambda rows: self._deflate(rgb, alpha, rows, rows.stop == rgb.height), ranges)
        return png_from_parts(rgb.size, parts)

    def _deflate(self, rgb: Image.Image, alpha: Image.Image, rows: range, final: bool) -> Deflated:
        above = None
        if rows.start > 0:  # the "Up" filter of the range's first row needs the row above it
            above = next(cutout_bands(rgb, alpha, range(rows.start - 1, rows.start), 1))[0]
        bands = cutout_bands(rgb, alpha, rows, rows_per_band(rgb.width))
        return deflate_rows(rgb.width, bands, above, self._level, final)


def cutout_bands(rgb: Image.Image, alpha: Image.Image, rows: range, rows_per_band: int) -> Iterator[np.ndarray]:
    """RGBA rows `rows` of the cut-out, `rows_per_band` at a time, each band shaped (rows, width × 4)."""
    width = rgb.width
    for top in range(rows.start, rows.stop, rows_per_band):
        box = (0, top, width, min(top + rows_per_band, rows.stop))
        band_alpha = alpha.crop(box)
        band = rgb.crop(box)
        band.putalpha(band_alpha)
        band.paste(0, mask=band_alpha.point(_CLEAR_WHERE_TRANSPARENT))
        yield np.asarray(band).reshape(band.height, width * 4)


def row_ranges(size: tuple[int, int], most: int) -> list[range]:
    """The image's rows cut into at most `most` near-equal ranges of at least MIN_RANGE_PIXELS each."""
    width, height = size
    count = max(1, min(most, height, width * height // MIN_RANGE_PIXELS))
    cuts = [height * index // count for index in range(count + 1)]
    return [range(top, bottom) for top, bottom in pairwise(cuts)]
