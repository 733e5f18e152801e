"""RGBA → PNG bytes."""

from __future__ import annotations

import io

from PIL import Image


def png_bytes(image: Image.Image, compress_level: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()
