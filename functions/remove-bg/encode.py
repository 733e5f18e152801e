"""RGBA → PNG bytes, fast and in bounded memory: the "Up" filter on every row, ISA-L's deflate.

Pillow's PNG encoder tries every filter on every row and uses stock zlib: 0.4 s for a 12 MP
cut-out at its fastest level. Filtering every row with "Up" (a vectorised subtraction) and
deflating with ISA-L takes about a tenth of that, and gives a smaller file for cut-outs, whose
transparent areas are runs of zeros. Rows are filtered and compressed a band at a time, so the
only full-size buffer is the compressed output. The container is plain PNG (IHDR, IDAT, IEND).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from isal import isal_zlib
from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGBA_8BIT = (8, 6)  # bit depth, colour type
FILTER_UP = 2
LEVELS = range(4)  # ISA-L's deflate levels 0..3
BAND_BYTES = 4 << 20


def png_bytes(image: Image.Image, compress_level: int) -> bytes:
    if image.mode != "RGBA":
        raise ValueError(f"expected an RGBA image, got {image.mode}")
    if compress_level not in LEVELS:
        raise ValueError(f"compress_level must be in 0..3, got {compress_level}")
    width, height = image.size
    header = struct.pack(">IIBBBBB", width, height, *RGBA_8BIT, 0, 0, 0)
    idat = _deflate_scanlines(image, compress_level)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _deflate_scanlines(image: Image.Image, compress_level: int) -> bytes:
    width, height = image.size
    row_bytes = width * 4
    band = max(1, BAND_BYTES // row_bytes)
    compressor = isal_zlib.compressobj(compress_level)
    scanlines = np.empty((band, row_bytes + 1), dtype=np.uint8)
    scanlines[:, 0] = FILTER_UP
    previous = np.zeros(row_bytes, dtype=np.uint8)  # the row above the first is all zeros
    parts = []
    for top in range(0, height, band):
        rows = np.asarray(image.crop((0, top, width, min(top + band, height)))).reshape(-1, row_bytes)
        count = rows.shape[0]
        out = scanlines[:count, 1:]
        np.subtract(rows[0], previous, out=out[0])  # uint8 wraps modulo 256, as PNG wants
        np.subtract(rows[1:], rows[:-1], out=out[1:])
        previous = rows[-1]
        parts.append(compressor.compress(scanlines[:count]))
    parts.append(compressor.flush())
    return b"".join(parts)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))
