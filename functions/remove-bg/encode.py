"""RGBA rows → PNG bytes, fast: the "Up" filter on every row, and ISA-L's deflate.

Pillow's PNG encoder tries every filter on every row and uses stock zlib: 0.4 s for a 12 MP
cut-out at its fastest level (1.6 s at its default). Filtering every row with "Up" (a vectorised
subtraction) and deflating with ISA-L takes about 0.07 s, for a file about 14 % larger than
Pillow's default and smaller than its fastest (tests/test_encode.py checks the latter). Rows
arrive in bands, so the only full-size buffer is the compressed output. The container is plain
PNG: IHDR, one IDAT, IEND.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

import numpy as np
from isal import isal_zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGBA_8BIT = (8, 6)  # bit depth, colour type
FILTER_UP = 2
LEVELS = range(4)  # ISA-L's deflate levels 0..3
BAND_BYTES = 4 << 20


def rows_per_band(width: int) -> int:
    """How many RGBA rows make a band of about BAND_BYTES."""
    return max(1, BAND_BYTES // (width * 4))


def png_bytes(size: tuple[int, int], bands: Iterable[np.ndarray], compress_level: int) -> bytes:
    """A PNG of `size` from uint8 RGBA row bands shaped (rows, width × 4), top to bottom."""
    if compress_level not in LEVELS:
        raise ValueError(f"compress_level must be in 0..3, got {compress_level}")
    width, height = size
    header = struct.pack(">IIBBBBB", width, height, *RGBA_8BIT, 0, 0, 0)
    idat = _deflate_scanlines(width * 4, height, bands, compress_level)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _deflate_scanlines(row_bytes: int, height: int, bands: Iterable[np.ndarray], compress_level: int) -> bytes:
    compressor = isal_zlib.compressobj(compress_level)
    previous = np.zeros(row_bytes, dtype=np.uint8)  # the row above the first is all zeros
    parts, done = [], 0
    for rows in bands:
        if rows.dtype != np.uint8 or rows.ndim != 2 or rows.shape[1] != row_bytes:
            raise ValueError(f"expected uint8 bands of shape (rows, {row_bytes}), got {rows.dtype} {rows.shape}")
        scanlines = np.empty((rows.shape[0], row_bytes + 1), dtype=np.uint8)
        scanlines[:, 0] = FILTER_UP
        np.subtract(rows[0], previous, out=scanlines[0, 1:])  # uint8 wraps modulo 256, as PNG wants
        np.subtract(rows[1:], rows[:-1], out=scanlines[1:, 1:])
        previous = rows[-1]
        parts.append(compressor.compress(scanlines))
        done += rows.shape[0]
    if done != height:
        raise ValueError(f"got {done} rows for an image {height} rows high")
    parts.append(compressor.flush())
    return b"".join(parts)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))
