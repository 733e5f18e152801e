"""decode → mask → compose → encode: one image in, one PNG cut-out out."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .compose import cutout
from .decode import decode
from .encode import png_bytes
from .mask import predict_mask

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineOptions:
    max_input_pixels: int
    png_compress_level: int


@dataclass(frozen=True)
class Result:
    png: bytes
    width: int
    height: int
    source_format: str


class Pipeline:
    def __init__(self, session: BaseSession, options: PipelineOptions) -> None:
        self._session = session
        self._options = options

    def run(self, data: bytes) -> Result:
        started = time.perf_counter()
        picture = decode(data, self._options.max_input_pixels)
        width, height = picture.size
        mask = predict_mask(self._session, picture.rgb)
        image = cutout(picture.rgb, mask, picture.alpha)
        png = png_bytes(image, self._options.png_compress_level)
        log.info(
            "cut out %s %dx%d in %.0f ms (%d bytes in, %d out)",
            picture.format,
            width,
            height,
            (time.perf_counter() - started) * 1000,
            len(data),
            len(png),
        )
        return Result(png=png, width=width, height=height, source_format=picture.format)
