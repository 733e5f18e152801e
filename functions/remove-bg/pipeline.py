"""decode → mask → cut-out: one image in, one PNG cut-out out."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .cutout import CutoutWriter, cutout_alpha
from .decode import decode
from .mask import Masker
from .workers import Workers

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession


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
    source_format: str
    seconds: dict[str, float]  # by stage: decode, mask, cutout (composing and encoding)


class Pipeline:
    def __init__(self, session: BaseSession, options: PipelineOptions) -> None:
        self._workers = Workers(options.threads)
        self._masker = Masker(session)
        self._writer = CutoutWriter(self._workers, options.png_compress_level)
        self._options = options

    def run(self, data: bytes) -> Result:
        options = self._options
        clock = time.perf_counter()
        picture = decode(data, options.max_input_pixels, options.max_pixels)
        decoded = time.perf_counter()
        mask = self._masker.mask(picture.rgb)
        masked = time.perf_counter()
        png = self._writer.png(picture.rgb, cutout_alpha(mask, picture.alpha))
        done = time.perf_counter()
        return Result(
            png=png,
            size=picture.rgb.size,
            source_size=picture.source_size,
            source_format=picture.format,
            seconds={"decode": decoded - clock, "mask": masked - decoded, "cutout": done - masked},
        )

    def close(self) -> None:
        self._workers.close()
