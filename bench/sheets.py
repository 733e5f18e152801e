"""The pictures make quality draws, for a person to judge before any number.

- a binary set: the worst photos by IoU, one row each: photo, truth, the model's mask;
- a soft set: windows of the photos' soft edges (hair, fur, mesh: harness/quality.py's soft band)
  cropped at full resolution, one row each: the photo, then the truth and each model as the
  cut-out it makes over a checkerboard (hair and mesh show as they would in use). Three views:
  where the models together are furthest from the truth (`edges.jpg`), and where the last model
  named gains most on the first (`gains.jpg`) and loses most to it (`losses.jpg`), so that a
  comparison shows both sides.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from harness.quality import soft_band
from harness.softedges import opened

SHEET_HEIGHT = 160
CROP = 256  # full-resolution pixels on a side
CHECKER = 16
LABEL_HEIGHT = 24


def worst_masks(rows: list[tuple[Path, Path, np.ndarray]], path: Path) -> None:
    """One row per (photo, truth, mask): the three side by side at one height."""
    drawn = []
    for image, alpha, mask in rows:
        photo = opened(image, "RGB")
        width = round(photo.width * SHEET_HEIGHT / photo.height)
        parts = (photo, opened(alpha, "RGB"), Image.fromarray(mask).convert("RGB"))
        drawn.append([part.resize((width, SHEET_HEIGHT)) for part in parts])
    _paste(drawn, path)


def errors(truth: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """|α − α_true| in the soft band, 0..255: where a model's edge is wrong."""
    return np.abs(alpha.astype(np.float32) - truth) * soft_band(truth)


# What a sheet of soft edges shows: per photo, the pixels whose window should be picked.
VIEWS: dict[str, Callable[[np.ndarray, list[np.ndarray]], np.ndarray]] = {
    # where all the models together are furthest from the truth
    "worst": lambda truth, models: sum(errors(truth, alpha) for alpha in models),
    # where the last model named is nearer the truth than the first, by the most (and the other way)
    "gains": lambda truth, models: errors(truth, models[0]) - errors(truth, models[-1]),
    "losses": lambda truth, models: errors(truth, models[-1]) - errors(truth, models[0]),
}


def windows(truths: dict[str, np.ndarray], scores: dict[str, np.ndarray], rows: int) -> list[tuple[str, int, int]]:
    """The `rows` photos whose score sums highest in a CROP-sized window, and that window's (left, top)."""
    found = []
    for stem, truth in truths.items():
        side = min(CROP, *truth.shape)
        local = ndimage.uniform_filter(scores[stem], size=side, mode="constant")
        half = side // 2
        inner = local[half : truth.shape[0] - (side - half) + 1, half : truth.shape[1] - (side - half) + 1]
        top, left = np.unravel_index(int(np.argmax(inner)), inner.shape)
        found.append((float(inner[top, left]), stem, int(left), int(top)))
    return [(stem, left, top) for _, stem, left, top in sorted(found, reverse=True)[:rows]]


def edge_crops(
    photos: dict[str, Path],
    truths: dict[str, np.ndarray],
    alphas: dict[str, dict[str, np.ndarray]],
    path: Path,
    *,
    view: str = "worst",
    rows: int = 6,
) -> None:
    """The windows `view` picks, full resolution: photo | truth | each model, labelled."""
    scores = {stem: VIEWS[view](truth, [one[stem] for one in alphas.values()]) for stem, truth in truths.items()}
    drawn = []
    for stem, left, top in windows(truths, scores, rows):
        side = min(CROP, *truths[stem].shape)
        photo = opened(photos[stem], "RGB").crop((left, top, left + side, top + side))
        mattes = [truths[stem], *(one[stem] for one in alphas.values())]
        drawn.append([photo, *(_over_checker(photo, matte[top : top + side, left : left + side]) for matte in mattes)])
    _paste(drawn, path, ["photo", "truth", *alphas])


def _over_checker(photo: Image.Image, alpha: np.ndarray) -> Image.Image:
    height, width = alpha.shape
    squares = (np.arange(height)[:, None] // CHECKER + np.arange(width)[None, :] // CHECKER) % 2
    checker = np.where(squares[..., None] == 1, 200.0, 150.0)
    weight = alpha[..., None] / 255.0
    mixed = weight * np.asarray(photo, dtype=np.float64) + (1 - weight) * checker
    return Image.fromarray(np.rint(mixed).astype(np.uint8))


def _paste(rows: list[list[Image.Image]], path: Path, labels: list[str] | None = None) -> None:
    top = LABEL_HEIGHT if labels else 0
    width = max(sum(part.width for part in row) for row in rows)
    height = top + sum(max(part.height for part in row) for row in rows)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    if labels:
        left = 0
        for label, part in zip(labels, rows[0], strict=False):
            draw.text((left + 6, 6), label, fill="black")
            left += part.width
    for row in rows:
        left = 0
        for part in row:
            sheet.paste(part, (left, top))
            left += part.width
        top += max(part.height for part in row)
    sheet.save(path, quality=90)  # the crops of photos as JPEG (a third of the PNG), the masks as PNG
