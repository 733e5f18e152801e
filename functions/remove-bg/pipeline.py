"""decode → mask → cut-out: one image in, one cut-out out, in the form the options ask for."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from .config import Settings
from .output.cutout import CutoutWriter, cutout_alpha
from .output.layout import Box, foreground_box
from .output.render import Renderer
from .picture.decode import decode
from .picture.mask import Masker
from .process.workers import Workers
from .request.options import Options

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession


@dataclass(frozen=True)
class PipelineOptions:
    max_input_pixels: int
    max_pixels: int
    png_compress_level: int
    threads: int  # how many threads share the composing and deflating of one cut-out

    @classmethod
    def of(cls, settings: Settings, threads: int) -> PipelineOptions:
        return cls(settings.max_input_pixels, settings.max_pixels, settings.png_compress_level, threads)


@dataclass(frozen=True)
class Result:
    body: bytes
    content_type: str
    size: tuple[int, int]
    foreground: Box | None  # in the output's pixels; None when nothing was found
    source_size: tuple[int, int]
    source_format: str
    seconds: dict[str, float]  # by stage: decode, mask, cutout (composing and encoding)


class Pipeline:
    def __init__(self, session: BaseSession, options: PipelineOptions, core: BaseSession | None = None) -> None:
        self._workers = Workers(options.threads)
        self._masker = Masker(session, core)
        self._renderer = Renderer(CutoutWriter(self._workers, options.png_compress_level))
        self._options = options

    def run(self, data: bytes, options: Options) -> Result:
        settings = self._options
        max_pixels = min(settings.max_pixels, options.max_pixels or settings.max_pixels)
        clock = time.perf_counter()
        picture = decode(data, settings.max_input_pixels, max_pixels)
        decoded = time.perf_counter()
        mask = self._masker.mask(picture.rgb)
        masked = time.perf_counter()
        alpha = cutout_alpha(mask.full, picture.alpha)
        foreground = foreground_box(alpha, mask.small)
        if foreground is None:  # nothing found: a fully transparent picture, not the model's faint noise
            alpha = Image.new("L", alpha.size, 0)
        # A target size is the caller's explicit output size: only the function's own limit bounds it.
        canvas_limit = settings.max_pixels if options.target_size else max_pixels
        rendered = self._renderer.render(picture.rgb, alpha, foreground, options, canvas_limit)
        done = time.perf_counter()
        return Result(
            body=rendered.body,
            content_type=rendered.content_type,
            size=rendered.size,
            foreground=rendered.foreground,
            source_size=picture.source_size,
            source_format=picture.format,
            seconds={"decode": decoded - clock, "mask": masked - decoded, "cutout": done - masked},
        )

    def close(self) -> None:
        self._workers.close()
