"""PNG files written by hand, for what Pillow will not write: 16-bit colour, huge all-zero images, lying headers.

The tests, the memory table and the soak all need such files; this is the one writer.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # by PNG colour type: gray, RGB, gray + alpha, RGBA


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def raw_png(width: int, height: int, bit_depth: int, color_type: int, rows: Iterable[bytes] | None) -> bytes:
    """A PNG of unfiltered scanlines `rows`; None streams zero rows (valid, and tiny once deflated)."""
    if rows is None:
        row_bytes = (width * CHANNELS[color_type] * bit_depth + 7) // 8
        rows = (b"\x00" * row_bytes for _ in range(height))
    compressor = zlib.compressobj(9)
    payload = b"".join(compressor.compress(b"\x00" + row) for row in rows) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", payload) + chunk(b"IEND", b"")


def header_claiming(width: int, height: int) -> bytes:
    """An RGBA PNG whose header claims `width`×`height` and whose data is a few bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
