"""Rows of pixels → PNG bytes, fast: the "Up" filter on every row, ISA-L's deflate, all the CPUs.

Pillow's PNG encoder tries every filter on every row and uses stock zlib, which is slow for a
large cut-out even at its fastest level. Filtering every row with "Up" (a vectorised subtraction)
and deflating with ISA-L is several times faster, for a file smaller than Pillow's fastest
(tests/function/test_cutout.py checks that). Rows arrive in bands from whoever composes them
(compose.py), so the only full-size buffer is the compressed output. The container is plain PNG:
IHDR, one IDAT, IEND.

The image is deflated in as many row ranges at once as there are CPUs (ISA-L releases the GIL),
the way pigz does it: each range is a run of raw deflate blocks that ends on a byte boundary and
starts with an empty window, the ranges are joined in order inside one zlib stream, and the
stream's Adler-32 is combined from the ranges' own. Composing and deflating would otherwise run
on one CPU while the others idle.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from isal import isal_zlib

from ..process.workers import Workers

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type by bytes per pixel, all 8 bits deep: grayscale, RGBA.
COLOUR_TYPES = {1: 0, 4: 6}
FILTER_UP = 2
LEVELS = range(4)  # ISA-L's deflate levels 0..3
BAND_BYTES = 4 << 20
RAW_DEFLATE = -15  # wbits: a 32 KB window and no zlib header or trailer
ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KB window, no preset dictionary (0x7801 % 31 == 0)
ADLER_BASE = 65521  # the largest prime below 2**16
# Below this many pixels per range, handing a range to another thread costs more than it saves.
MIN_RANGE_PIXELS = 64 * 1024

Bands = Callable[[range, int], Iterator[np.ndarray]]  # rows, rows per band → bands of (rows, width × channels)


@dataclass(frozen=True)
class Rows:
    """A PNG's pixels, made a band at a time when the writer asks for them."""

    size: tuple[int, int]
    channels: int  # 1: grayscale, 4: RGBA
    bands: Bands


class PngWriter:
    """Writes PNGs, each spread over the workers' threads."""

    def __init__(self, workers: Workers, compress_level: int) -> None:
        self._workers = workers
        self._level = compress_level

    def write(self, rows: Rows) -> bytes:
        width, height = rows.size
        row_bytes = width * rows.channels

        def deflate(part: range) -> Deflated:
            # The "Up" filter of the range's first row needs the row above it (None: the image's first).
            above = next(rows.bands(range(part.start - 1, part.start), 1))[0] if part.start > 0 else None
            per_band = rows_per_band(row_bytes)
            return deflate_rows(row_bytes, rows.bands(part, per_band), above, self._level, part.stop == height)

        parts = self._workers.map(deflate, row_ranges(rows.size, self._workers.threads))
        return png_from_parts(rows.size, parts, rows.channels)


def row_ranges(size: tuple[int, int], most: int) -> list[range]:
    """The image's rows cut into at most `most` near-equal ranges of at least MIN_RANGE_PIXELS each."""
    width, height = size
    count = max(1, min(most, height, width * height // MIN_RANGE_PIXELS))
    cuts = [height * index // count for index in range(count + 1)]
    return [range(top, bottom) for top, bottom in pairwise(cuts)]


@dataclass(frozen=True)
class Deflated:
    """A range of PNG scanlines as raw deflate blocks, with what joining them needs."""

    data: bytes
    rows: int
    adler: int  # Adler-32 of the scanlines (filter byte + filtered row) in this range
    final: bool  # its last block ends the deflate stream


def rows_per_band(row_bytes: int) -> int:
    """How many rows of `row_bytes` make a band of about BAND_BYTES."""
    return max(1, BAND_BYTES // row_bytes)


def deflate_rows(
    row_bytes: int, bands: Iterable[np.ndarray], row_above: np.ndarray | None, compress_level: int, final: bool
) -> Deflated:
    """Filter and deflate a range of rows; `row_above` is the row before the range (None: the first)."""
    if compress_level not in LEVELS:
        raise ValueError(f"compress_level must be in 0..3, got {compress_level}")
    compressor = isal_zlib.compressobj(compress_level, isal_zlib.DEFLATED, RAW_DEFLATE)
    previous = np.zeros(row_bytes, dtype=np.uint8) if row_above is None else row_above
    parts, rows_done, adler = [], 0, 1
    for rows in bands:
        if rows.dtype != np.uint8 or rows.ndim != 2 or rows.shape[1] != row_bytes:
            raise ValueError(f"expected uint8 bands of shape (rows, {row_bytes}), got {rows.dtype} {rows.shape}")
        scanlines = np.empty((rows.shape[0], row_bytes + 1), dtype=np.uint8)
        scanlines[:, 0] = FILTER_UP
        np.subtract(rows[0], previous, out=scanlines[0, 1:])  # uint8 wraps modulo 256, as PNG wants
        np.subtract(rows[1:], rows[:-1], out=scanlines[1:, 1:])
        previous = rows[-1]
        adler = isal_zlib.adler32(scanlines, adler)
        parts.append(compressor.compress(scanlines))
        rows_done += rows.shape[0]
    # A sync flush ends on a byte boundary, so the next range's blocks can follow directly.
    parts.append(compressor.flush(isal_zlib.Z_FINISH if final else isal_zlib.Z_SYNC_FLUSH))
    return Deflated(data=b"".join(parts), rows=rows_done, adler=adler, final=final)


def png_from_parts(size: tuple[int, int], parts: Sequence[Deflated], channels: int = 4) -> bytes:
    """The PNG whose scanlines (`channels` bytes a pixel) are `parts`, top to bottom; only the last may be final."""
    width, height = size
    if sum(part.rows for part in parts) != height:
        raise ValueError(f"got {sum(part.rows for part in parts)} rows for an image {height} rows high")
    if not parts or not parts[-1].final or any(part.final for part in parts[:-1]):
        raise ValueError("only the last part may, and must, end the deflate stream")
    adler = parts[0].adler
    for part in parts[1:]:
        adler = adler32_combine(adler, part.adler, part.rows * (width * channels + 1))
    idat = b"".join([ZLIB_HEADER, *(part.data for part in parts), struct.pack(">I", adler)])
    header = struct.pack(">IIBBBBB", width, height, 8, COLOUR_TYPES[channels], 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """Adler-32 of A + B from adler32(A), adler32(B) and len(B).

    Adler-32 keeps s1 = 1 + the sum of the bytes, and s2 = the sum of s1 after each byte, both
    mod 65521, as (s2 << 16) | s1. After A, B's bytes add their sum to s1 (s1_A + s1_B - 1),
    and each of B's len(B) running s1 values is larger by A's byte sum (s1_A - 1), so s2 gains
    s2_B + len(B) × (s1_A - 1).
    """
    s1_a, s2_a = first & 0xFFFF, first >> 16
    s1_b, s2_b = second & 0xFFFF, second >> 16
    s1 = (s1_a + s1_b - 1) % ADLER_BASE
    s2 = (s2_a + s2_b + second_length * (s1_a - 1)) % ADLER_BASE
    return (s2 << 16) | s1


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))
