"""A ground-truth set (photos with their true masks or mattes), each photo answered by an answerer and scored.

A set is `image/<stem>.*` + `alpha/<stem>.png`. The shared sets (GrabCut's, alphamatting.com's) live in
SHARED, beside the checkout; `make quality DATA=<set>` takes any set laid out the same way.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from harness.answerers import Answerer
from harness.processes import ROOT
from harness.quality import Scores, score

SHARED = ROOT.parent / "shared" / "quality"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


class Sample(NamedTuple):
    """One photo of a set and its true mask."""

    stem: str
    image: Path
    alpha: Path


@dataclass(frozen=True)
class Measured:
    sample: Sample
    cutout: np.ndarray  # the function's RGBA answer
    seconds: float

    @property
    def alpha(self) -> np.ndarray:
        return self.cutout[..., 3]


def load_set(root: Path) -> list[Sample]:
    """Every image/<stem>.* with an alpha/<stem>.png, by stem."""
    images = {path.stem: path for path in (root / "image").iterdir() if path.suffix.lower() in IMAGE_SUFFIXES}
    samples = [Sample(stem, path, root / "alpha" / f"{stem}.png") for stem, path in sorted(images.items())]
    found = [sample for sample in samples if sample.alpha.is_file()]
    if not found:
        raise SystemExit(f"{root}: no image/<stem>.* with an alpha/<stem>.png beside it")
    return found


def measure(function: Answerer, samples: list[Sample], query: dict[str, str]) -> list[Measured]:
    measured = []
    for sample in samples:
        body, seconds = function.answer(sample.image.read_bytes(), query)
        cutout = np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))
        measured.append(Measured(sample, cutout, seconds))
    return measured


def scored(measured: list[Measured], truths: dict[str, np.ndarray]) -> list[Scores]:
    found = []
    for one in measured:
        truth = truths[one.sample.stem]
        if one.alpha.shape != truth.shape:
            raise RuntimeError(f"{one.sample.stem}: mask {one.alpha.shape} against truth {truth.shape}")
        found.append(score(one.alpha, truth))
    return found
