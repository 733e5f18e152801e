"""The soft-edge yardstick: composites with a known feathered alpha, foreground and background.

A binary truth says where the subject is, not how its edge is blended nor whether the old
background's colour is left in it (the halo). Here each set photo's subject is cut with its true
mask, feathered (a Gaussian of FEATHER_RADIUS pixels), and laid over backgrounds of strong
colours and a hard texture, so that the true alpha and the true foreground colour are known at
every pixel of the soft band. Measured there: the alpha's error, and the foreground colour's
error where both alphas see it (the halo).
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, ImageFilter

from harness.quality import markdown_table

FEATHER_RADIUS = 4
DEFAULT_IMAGES = 12
BAND = (0.02, 0.98)  # true alpha strictly inside this: the soft band
SEEN = 0.05  # our alpha from which a foreground colour is judged
BLUE, YELLOW = np.array([20.0, 40.0, 230.0]), np.array([250.0, 220.0, 20.0])


class HasImage(Protocol):
    stem: str
    image: Path
    alpha: Path


@dataclass(frozen=True)
class Composite:
    name: str
    body: bytes  # the composite as PNG, what the function is sent
    alpha: np.ndarray  # true alpha, 0..1, (h, w)
    foreground: np.ndarray  # true foreground colour, 0..255 float, (h, w, 3)


@dataclass(frozen=True)
class SoftSummary:
    composites: int
    band_alpha_error: float  # mean |ours − true| alpha in the soft band, 0..1
    halo: float  # mean |ours − true| foreground colour where both alphas see it, 0..255

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def backgrounds(size: tuple[int, int]) -> dict[str, np.ndarray]:
    """Strong colours, a gradient and a hard checker: the backgrounds a halo shows against."""
    width, height = size
    across = np.linspace(0.0, 1.0, width)[None, :, None]
    checker = ((np.arange(height)[:, None] // 16 + np.arange(width)[None, :] // 16) % 2)[:, :, None]
    return {
        "red": np.broadcast_to(np.array([230.0, 30.0, 30.0]), (height, width, 3)),
        "green": np.broadcast_to(np.array([30.0, 200.0, 60.0]), (height, width, 3)),
        "gradient": np.broadcast_to(across * BLUE + (1 - across) * YELLOW, (height, width, 3)),
        "checker": np.where(checker == 1, [250.0, 0.0, 200.0], [0.0, 220.0, 220.0]),
    }


def composites(samples: list[HasImage]) -> list[Composite]:
    made = []
    for sample in samples:
        photo = opened(sample.image, "RGB")
        hard = opened(sample.alpha, "L").point(lambda value: 255 if value > 128 else 0)
        alpha = np.asarray(hard.filter(ImageFilter.GaussianBlur(FEATHER_RADIUS)), dtype=np.float64) / 255
        foreground = np.asarray(photo, dtype=np.float64)
        for name, background in backgrounds(photo.size).items():
            mixed = alpha[..., None] * foreground + (1 - alpha[..., None]) * background
            out = io.BytesIO()
            Image.fromarray(np.rint(mixed).astype(np.uint8)).save(out, "PNG")
            made.append(Composite(f"{sample.stem}:{name}", out.getvalue(), alpha, foreground))
    return made


def opened(path: Path, mode: str) -> Image.Image:
    """The image at `path` in `mode`, its file closed."""
    with Image.open(path) as image:
        return image.convert(mode)


def errors(cutout: np.ndarray, composite: Composite) -> tuple[float, float]:
    """(alpha error in the soft band, halo) of an RGBA cut-out against the composite's truth."""
    ours_alpha = cutout[..., 3] / 255.0
    band = (composite.alpha > BAND[0]) & (composite.alpha < BAND[1])
    alpha_error = float(np.abs(ours_alpha - composite.alpha)[band].mean())
    return alpha_error, halo(cutout, composite.alpha, composite.foreground, band)


def halo(cutout: np.ndarray, alpha: np.ndarray, foreground: np.ndarray, band: np.ndarray) -> float:
    """Mean |our colour − the true foreground colour| (0–255) in `band`, where both alphas see the pixel.

    Weighted by both alphas: where the subject is faint its colour matters little. `alpha` is the
    true one (0..1), `foreground` the true colours (0..255, h×w×3).
    """
    ours_alpha = cutout[..., 3] / 255.0
    weight = np.where(band & (ours_alpha >= SEEN), alpha * ours_alpha, 0.0)
    colour_error = np.abs(cutout[..., :3].astype(np.float64) - foreground).mean(axis=-1)
    return float((weight * colour_error).sum() / weight.sum()) if weight.sum() else 0.0


def measure(answer: Callable[[bytes], bytes], made: list[Composite]) -> SoftSummary:
    """`answer` turns a composite's body into the function's RGBA PNG cut-out."""
    found = [errors(np.asarray(Image.open(io.BytesIO(answer(one.body))).convert("RGBA")), one) for one in made]
    return SoftSummary(
        composites=len(made),
        band_alpha_error=statistics.fmean(alpha for alpha, _ in found),
        halo=statistics.fmean(halo for _, halo in found),
    )


def table(results: dict[str, SoftSummary], count: int) -> str:
    title = f"Soft edges: {count} composites (feathered {FEATHER_RADIUS} px, 4 backgrounds)"
    columns = ["model", "alpha error in the soft band", "halo: foreground colour error there (0–255)"]
    rows = [[name, f"{one.band_alpha_error:.4f}", f"{one.halo:.1f}"] for name, one in results.items()]
    return markdown_table(title, columns, rows)
