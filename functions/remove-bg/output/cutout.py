"""The cut-out as a PNG: the picture with the mask as alpha and no colour left where alpha is 0.

It is composed a band of rows at a time, straight into the encoder, so no full-size RGBA copy of
the picture is ever made; and in as many row ranges at once as there are CPUs, because composing
and deflating would otherwise run on one CPU while the others idle. The result is a plain
single-IDAT PNG either way. The same writer gives the mask alone (grayscale) and Pixian's Delta
PNG, which differ only in how a band of rows is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import pairwise

import numpy as np
from PIL import Image, ImageChops

from ..process.workers import Workers
from .encode import Deflated, deflate_rows, png_from_parts, rows_per_band

# Below this many pixels per range, handing a range to another thread costs more than it saves.
MIN_RANGE_PIXELS = 64 * 1024
# 255 where alpha is 0: where the colour is cleared, so fully transparent pixels compress well.
_CLEAR_WHERE_TRANSPARENT = [255] + [0] * 255
# Delta PNG: an opaque pixel is written as transparent white, "take the original's pixel", and a
# transparent one as 0. The model's alpha rarely reaches 255 exactly (its foreground is mostly
# 254 or 255, its background 0 or 1), so both ends take a step of 1/255: a client's composite is
# within 1/255 of the cut-out, and the file is small, which is Delta PNG's point.
DELTA_KEEP = np.array([255, 255, 255, 0], dtype=np.uint8)
DELTA_OPAQUE_FROM = 254
DELTA_CLEAR_UP_TO = 1

Bands = Callable[[range, int], Iterator[np.ndarray]]  # rows, rows per band → bands of (rows, width × channels)


def cutout_alpha(mask: Image.Image, own_alpha: Image.Image | None) -> Image.Image:
    """The cut-out's alpha: the mask × the picture's own alpha (where it has one), as rembg composes it."""
    return mask if own_alpha is None else ImageChops.multiply(mask, own_alpha)


class CutoutWriter:
    """Writes cut-outs as PNGs, each spread over the workers' threads."""

    def __init__(self, workers: Workers, compress_level: int) -> None:
        self._workers = workers
        self._level = compress_level

    def png(self, rgb: Image.Image, alpha: Image.Image) -> bytes:
        """The RGBA PNG of `rgb` with `alpha`, its colour cleared where alpha is 0."""
        return self._write(rgb.size, 4, lambda rows, per_band: cutout_bands(rgb, alpha, rows, per_band))

    def mask(self, alpha: Image.Image) -> bytes:
        """The grayscale PNG of `alpha`."""
        return self._write(alpha.size, 1, lambda rows, per_band: _gray_bands(alpha, rows, per_band))

    def delta(self, rgb: Image.Image, alpha: Image.Image) -> bytes:
        """Pixian's Delta PNG: 0x00000000 where transparent, 0x00FFFFFF where opaque, real RGBA between."""
        return self._write(rgb.size, 4, lambda rows, per_band: _delta_bands(rgb, alpha, rows, per_band))

    def _write(self, size: tuple[int, int], channels: int, bands: Bands) -> bytes:
        width, height = size
        row_bytes = width * channels
        ranges = row_ranges(size, self._workers.threads)

        def deflate(rows: range) -> Deflated:
            # The "Up" filter of the range's first row needs the row above it (None: the image's first).
            above = next(bands(range(rows.start - 1, rows.start), 1))[0] if rows.start > 0 else None
            per_band = rows_per_band(row_bytes)
            return deflate_rows(row_bytes, bands(rows, per_band), above, self._level, rows.stop == height)

        return png_from_parts(size, self._workers.map(deflate, ranges), channels)


def cutout_bands(rgb: Image.Image, alpha: Image.Image, rows: range, rows_per_band: int) -> Iterator[np.ndarray]:
    """RGBA rows `rows` of the cut-out, `rows_per_band` at a time, each band shaped (rows, width × 4)."""
    width = rgb.width
    for box in _boxes(width, rows, rows_per_band):
        band_alpha = alpha.crop(box)
        band = rgb.crop(box)
        band.putalpha(band_alpha)
        band.paste(0, mask=band_alpha.point(_CLEAR_WHERE_TRANSPARENT))
        yield np.asarray(band).reshape(band.height, width * 4)


def _gray_bands(alpha: Image.Image, rows: range, rows_per_band: int) -> Iterator[np.ndarray]:
    for box in _boxes(alpha.width, rows, rows_per_band):
        yield np.asarray(alpha.crop(box))


def _delta_bands(rgb: Image.Image, alpha: Image.Image, rows: range, rows_per_band: int) -> Iterator[np.ndarray]:
    for band in cutout_bands(rgb, alpha, rows, rows_per_band):
        pixels = band.reshape(band.shape[0], -1, 4).copy()
        pixels[pixels[:, :, 3] <= DELTA_CLEAR_UP_TO] = 0
        pixels[pixels[:, :, 3] >= DELTA_OPAQUE_FROM] = DELTA_KEEP
        yield pixels.reshape(band.shape)


def _boxes(width: int, rows: range, rows_per_band: int) -> Iterator[tuple[int, int, int, int]]:
    for top in range(rows.start, rows.stop, rows_per_band):
        yield (0, top, width, min(top + rows_per_band, rows.stop))


def row_ranges(size: tuple[int, int], most: int) -> list[range]:
    """The image's rows cut into at most `most` near-equal ranges of at least MIN_RANGE_PIXELS each."""
    width, height = size
    count = max(1, min(most, height, width * height // MIN_RANGE_PIXELS))
    cuts = [height * index // count for index in range(count + 1)]
    return [range(top, bottom) for top, bottom in pairwise(cuts)]
