"""decode → mask → cut-out: one image in, one PNG cut-out out."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .cutout import CutoutWriter, cutout_alpha
from .decode import decode
from .mask import Masker
from .workers import Workers

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineOptions:
    max_input_pixels: int
    max_pixels: int
    png_compress_level: int
    threads: int  # how many threads share the composing and deflating of one cut-out


@dataclass(frozen=True)
class Result:
    png: bytes
    size: tuple[int, int]
    source_size: tuple[int, int]


class Pipeline:
    def __init__(self, session: BaseSession, options: PipelineOptions) -> None:
        self._workers = Workers(options.threads)
        self._masker = Masker(session)
        self._writer = CutoutWriter(self._workers, options.png_compress_level)
        self._options = options

    def run(self, data: bytes) -> Result:
        started = time.perf_counter()
        options = self._options
        picture = decode(data, options.max_input_pixels, options.max_pixels)
        size = picture.rgb.size
        mask = self._masker.mask(picture.rgb)
        png = self._writer.png(picture.rgb, cutout_alpha(mask, picture.alpha))
        log.info(
            "cut out %s %dx%d%s in %.0f ms (%d bytes in, %d out)",
            picture.format,
            *size,
            "" if size == picture.source_size else " (scaled from {}x{})".format(*picture.source_size),
            (time.perf_counter() - started) * 1000,
            len(data),
            len(png),
        )
        return Result(png=png, size=size, source_size=picture.source_size)

    def close(self) -> None:
        self._workers.close()
