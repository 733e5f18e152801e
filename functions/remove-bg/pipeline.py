"""mask → cut-out: one decoded picture in (sandbox/ decoded it), one cut-out out, in the form the options ask for."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .config import Settings
from .deadline import Deadline
from .output.layout import check
from .output.limits import PixelLimit
from .output.stage import Output, Result
from .picture.decode import Picture
from .picture.mask import Masker
from .process.workers import Workers
from .request.options import Options

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession


@dataclass(frozen=True)
class PipelineOptions:
    max_pixels: int
    png_compress_level: int
    threads: int  # how many threads share the composing and deflating of one cut-out

    @classmethod
    def of(cls, settings: Settings, threads: int) -> PipelineOptions:
        return cls(settings.max_pixels, settings.png_compress_level, threads)


class Pipeline:
    def __init__(self, session: BaseSession, options: PipelineOptions, core: BaseSession | None = None) -> None:
        self._workers = Workers(options.threads)
        self._masker = Masker(session, core)
        self._output = Output(self._workers, options.png_compress_level)
        self._options = options

    def run(self, picture: Picture, options: Options, deadline: Deadline) -> Result:
        """The cut-out; DeadlineExceeded if `deadline` passes in the model's run or before the output starts.
        The output stage runs to its end once begun: it is bounded by MAX_PIXELS (under a second here)."""
        canvas_limit = PixelLimit.of(self._options.max_pixels, options).canvas
        check(picture.rgb.size, options, canvas_limit)  # an output no encoder can write: refused before the model
        clock = time.perf_counter()
        mask = self._masker.mask(picture.rgb, deadline)
        deadline.check("mask")
        masked = time.perf_counter()
        result = self._output.render(picture, mask, options, canvas_limit)
        done = time.perf_counter()
        return replace(result, seconds={"mask": masked - clock, "cutout": done - masked})

    def close(self) -> None:
        self._workers.close()
