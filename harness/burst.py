"""A burst of clients at one server: its peak memory beside what one photo needs, and its speed.

What the process needs under a burst is what one photo at a time needs (the server takes one, the
others are refused with a 429 or wait as bodies in transit); every byte more is what the burst
left behind. `make burst` (bench/burst.py) compares allocator settings with it; tests/test_memory.py
holds the server as shipped to it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import requests
from PIL import Image
from skimage import data

from harness.load import Shot, closed_loop, summary
from harness.processes import peak_rss_kb, rss_kb

SIZE = (4000, 3000)  # 12 MP, a phone camera's original
REQUEST_TIMEOUT_S = 120.0
GRAIN = 20  # ± levels of noise a pixel


@dataclass(frozen=True)
class Burst:
    variant: str
    one_photo_mb: float  # VmHWM after the warm photo
    peak_mb: float  # VmHWM after the burst
    after_mb: float  # VmRSS after the burst
    photos_per_s: float
    p50_s: float
    p95_s: float
    refused: int
    incorrect: int


def photo(size: tuple[int, int] = SIZE) -> Shot:
    """scikit-image's chelsea with a camera's grain: 4.3 MB at 12 MP, as a phone's original (upscaled alone: 1 MB)."""
    smooth = np.asarray(Image.fromarray(data.chelsea()).resize(size, Image.Resampling.BICUBIC), dtype=np.int16)
    grain = np.random.default_rng(0).integers(-GRAIN, GRAIN, smooth.shape, dtype=np.int16)
    buffer = io.BytesIO()
    Image.fromarray((smooth + grain).clip(0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return Shot("{}x{}".format(*size), buffer.getvalue(), size)


def burst(url: str, pid: int, shot: Shot, *, clients: int, seconds: float, variant: str = "") -> Burst:
    """Warm a ready server at `url` (process `pid`) with one photo, then `clients` clients for `seconds`."""
    requests.post(url, data=shot.body, timeout=REQUEST_TIMEOUT_S).raise_for_status()
    one_photo = peak_rss_kb(pid)
    outcomes = closed_loop(url, [shot], clients=clients, seconds=seconds, timeout=REQUEST_TIMEOUT_S)
    report = summary(outcomes)
    return Burst(
        variant=variant,
        one_photo_mb=one_photo / 1024,
        peak_mb=peak_rss_kb(pid) / 1024,
        after_mb=rss_kb(pid) / 1024,
        photos_per_s=report["served"] / seconds,
        p50_s=report["p50_s"],
        p95_s=report["p95_s"],
        refused=report["statuses"].get("429", 0),
        incorrect=report["incorrect"],
    )
