"""Edge refinements measured against the yardsticks before any goes into the function.

Each candidate takes the function's own answer (its mask, or its cut-out) and the photo, and
returns what the function would answer with the refinement in place:

- guided-gray, guided-colour: the mask filtered with the photo as the guide (He, Sun and Tang's
  guided filter), so that its edges follow the photo's;
- guided-band: the gray guided filter kept only where the model is unsure (its mask strictly
  between UNSURE values, grown by the filter's radius), the rest of the mask as it was;
- fusion: the cut-out's colours at soft edges re-estimated (Forte and Pitié's blur-fusion
  foreground estimate, two passes), so that the old background's colour leaves them;
- guided-colour+fusion: both.

`make quality QUALITY_FLAGS=--edges=guided-gray,fusion` scores them beside the plain function;
`python -m bench.edges` times each on a 12 MP photo. Box filters are scipy's.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.ndimage import binary_dilation, uniform_filter

from harness import models
from harness.answerers import Answerer

FUSION_RADII = (90, 6)  # the paper's two passes: a wide one, then a narrow one
EPSILON = 1e-5


UNSURE = (0.02, 0.98)


@dataclass(frozen=True)
class Guided:
    radius: int
    eps: float
    colour: bool
    unsure_only: bool = False  # keep the filtered mask only in the band where the model is unsure


CANDIDATES: dict[str, tuple[Guided | None, bool]] = {
    "guided-gray": (Guided(4, 1e-3, colour=False), False),
    "guided-band": (Guided(4, 1e-3, colour=False, unsure_only=True), False),
    "guided-colour": (Guided(8, 1e-2, colour=True), False),
    "fusion": (None, True),
    "guided-colour+fusion": (Guided(8, 1e-2, colour=True), True),
}


def _box(values: np.ndarray, radius: int) -> np.ndarray:
    size = (2 * radius + 1, 2 * radius + 1) + ((1,) * (values.ndim - 2))
    return uniform_filter(values, size=size, mode="nearest")


def guided_filter(guide: np.ndarray, mask: np.ndarray, settings: Guided) -> np.ndarray:
    """`mask` (0..1, h×w) filtered with `guide` (0..1, h×w×3): gray, or the three colours."""
    radius, eps = settings.radius, settings.eps
    if not settings.colour:
        gray = guide.mean(axis=-1)
        mean_i, mean_p = _box(gray, radius), _box(mask, radius)
        slope = (_box(gray * mask, radius) - mean_i * mean_p) / (_box(gray * gray, radius) - mean_i**2 + eps)
        offset = mean_p - slope * mean_i
        return np.clip(_box(slope, radius) * gray + _box(offset, radius), 0, 1)
    mean_i, mean_p = _box(guide, radius), _box(mask, radius)
    covariance = _box(guide * mask[..., None], radius) - mean_i * mean_p[..., None]
    sigma = np.empty((*mask.shape, 3, 3))
    for row in range(3):
        for column in range(3):
            sigma[..., row, column] = (
                _box(guide[..., row] * guide[..., column], radius) - mean_i[..., row] * mean_i[..., column]
            )
    sigma += eps * np.eye(3)
    slope = np.linalg.solve(sigma, covariance[..., None])[..., 0]
    offset = mean_p - (slope * mean_i).sum(axis=-1)
    return np.clip((_box(slope, radius) * guide).sum(axis=-1) + _box(offset, radius), 0, 1)


def foreground(photo: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blur-fusion's foreground colours (0..1, h×w×3) for `photo` with `alpha`."""
    weight = alpha[..., None]
    fore, back = photo, photo
    for radius in FUSION_RADII:
        fore_blur = _box(fore * weight, radius) / (_box(alpha, radius)[..., None] + EPSILON)
        back_blur = _box(back * (1 - weight), radius) / (_box(1 - alpha, radius)[..., None] + EPSILON)
        fore = np.clip(fore_blur + weight * (photo - weight * fore_blur - (1 - weight) * back_blur), 0, 1)
        back = back_blur
    return fore


def refine(photo: Image.Image, mask: Image.Image, candidate: str, only_mask: bool) -> bytes:
    """The PNG the function would answer with `candidate` in place: the mask, or the RGBA cut-out."""
    guided, fusion = CANDIDATES[candidate]
    pixels = np.asarray(photo.convert("RGB"), dtype=np.float64) / 255
    alpha = np.asarray(mask, dtype=np.float64) / 255
    if guided is not None:
        filtered = guided_filter(pixels, alpha, guided)
        if guided.unsure_only:
            unsure = binary_dilation((alpha > UNSURE[0]) & (alpha < UNSURE[1]), iterations=guided.radius)
            filtered = np.where(unsure, filtered, alpha)
        alpha = filtered
    alpha8 = np.rint(alpha * 255).astype(np.uint8)
    out = io.BytesIO()
    if only_mask:
        Image.fromarray(alpha8).save(out, "PNG", compress_level=1)
        return out.getvalue()
    colours = foreground(pixels, alpha) if fusion else pixels
    rgba = np.dstack([np.rint(colours * 255).astype(np.uint8), alpha8])
    rgba[alpha8 == 0, :3] = 0
    Image.fromarray(rgba).save(out, "PNG", compress_level=1)
    return out.getvalue()


class Refined(Answerer):
    """An answerer's masks refined by a candidate: what the function would answer with it."""

    def __init__(self, inner: Answerer, candidate: str) -> None:
        self.model = f"{inner.model} edges={candidate}"
        self._inner, self._candidate = inner, candidate

    def _answer(self, body: bytes, query: dict[str, str]) -> bytes:
        mask = Image.open(io.BytesIO(self._inner.answer(body, {**query, "only_mask": "true"})[0])).convert("L")
        photo = Image.open(io.BytesIO(body)).convert("RGB")
        return refine(photo, mask, self._candidate, query.get("only_mask") == "true")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="time each edge refinement on a 12 MP photo, beside the request")
    parser.add_argument("--model", default=models.QUALITY, help="whose request and mask (harness/answerers.py names)")
    args = parser.parse_args(argv)
    import os

    from skimage import data

    from harness.answerers import Function

    photo = Image.fromarray(data.astronaut()).resize((4000, 3000), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90)
    function = Function(args.model, dict(os.environ))
    try:
        plain = statistics.median(function.answer(out.getvalue(), {})[1] for _ in range(3))
        mask = Image.open(io.BytesIO(function.answer(out.getvalue(), {"only_mask": "true"})[0])).convert("L")
    finally:
        function.stop()
    print(f"the function's own cut-out: {plain:.2f} s at 12 MP ({args.model})")
    for candidate in CANDIDATES:
        seconds = []
        for _ in range(3):
            started = time.perf_counter()
            refine(photo, mask, candidate, only_mask=False)
            seconds.append(time.perf_counter() - started)
        added = statistics.median(seconds)
        print(f"{candidate}: +{added:.2f} s at 12 MP ({added / plain:+.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
