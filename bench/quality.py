"""make quality DATA=<set>: the function's own masks scored against a set's true masks, per model.

A set is `image/<stem>.*` + `alpha/<stem>.png`. Each image goes through the function object as
the server drives it (handler.new(), start() with the environment's settings, handle() with
`only_mask=true`), so what is measured is what the server answers; `modnet` runs through the
function's pipeline too (bench/answerers.py). Writes a markdown table, JSON
and, per model, a contact sheet of the worst cases (photo, truth, ours) into OUT.
"""

from __future__ import annotations

import argparse
import fnmatch
import io
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from bench import answerers
from bench.answerers import Answerer
from bench.edges import CANDIDATES, Refined
from harness import softedges
from harness.quality import Scores, Summary, markdown_table, score, summarize

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
WORST_SHOWN = 8
SHEET_HEIGHT = 160
DEFAULT_OUT = Path("bench/results/quality")


class Sample(NamedTuple):
    """One photo of a set and its true mask."""

    stem: str
    image: Path
    alpha: Path


@dataclass(frozen=True)
class Measured:
    sample: Sample
    scores: Scores
    seconds: float
    mask: np.ndarray


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
        body, seconds = function.answer(sample.image.read_bytes(), {**query, "only_mask": "true"})
        mask = np.asarray(Image.open(io.BytesIO(body)).convert("L"))
        truth = np.asarray(softedges.opened(sample.alpha, "L"))
        if mask.shape != truth.shape:
            raise RuntimeError(f"{sample.stem}: mask {mask.shape} against truth {truth.shape}")
        measured.append(Measured(sample, score(mask, truth), seconds, mask))
    return measured


def contact_sheet(measured: list[Measured], path: Path) -> None:
    """The worst cases by IoU, one row each: photo, truth, ours."""
    rows = []
    for one in sorted(measured, key=lambda item: item.scores.iou)[:WORST_SHOWN]:
        photo = softedges.opened(one.sample.image, "RGB")
        truth = softedges.opened(one.sample.alpha, "RGB")
        ours = Image.fromarray(one.mask).convert("RGB")
        width = round(photo.width * SHEET_HEIGHT / photo.height)
        rows.append([part.resize((width, SHEET_HEIGHT)) for part in (photo, truth, ours)])
    sheet = Image.new("RGB", (max(sum(p.width for p in row) for row in rows), SHEET_HEIGHT * len(rows)), "white")
    for index, row in enumerate(rows):
        left = 0
        for part in row:
            sheet.paste(part, (left, index * SHEET_HEIGHT))
            left += part.width
    sheet.save(path)


def _file_name(name: str) -> str:
    return "".join(char if char.isalnum() else "-" for char in name).strip("-")


def table(results: dict[str, Summary], title: str) -> str:
    columns = ["model", "MAE", "IoU mean", "IoU median", "IoU < 0.5", "S-measure", "weighted F", "boundary F (3 px)"]
    rows = [
        [
            name,
            f"{one.mae:.4f}",
            f"{one.iou_mean:.3f}",
            f"{one.iou_median:.3f}",
            f"{one.iou_failures}/{one.images}",
            f"{one.s_measure:.3f}",
            f"{one.weighted_f:.3f}",
            f"{one.boundary_f:.3f}",
            f"{one.seconds_mean:.3f}",
        ]
        for name, one in results.items()
    ]
    return markdown_table(title, [*columns, "s / image"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path, help="a set laid out as image/<stem>.* + alpha/<stem>.png")
    parser.add_argument("--models", default="u2net,u2netp", help="comma-separated rembg model names")
    parser.add_argument("--variants", default="", help="extra request options to compare, e.g. 'edges=rembg'")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--subset", default="*", help="only the stems matching this pattern, e.g. 'person*'")
    parser.add_argument("--reference", action="store_true", help="also score rembg's own remove() per model")
    parser.add_argument("--edges", default="", help=f"edge refinements to score too: {', '.join(CANDIDATES)}")
    parser.add_argument("--soft-edges", type=int, default=softedges.DEFAULT_IMAGES, help="images for the soft-edge set")
    args = parser.parse_args(argv)
    samples = [sample for sample in load_set(args.data) if fnmatch.fnmatchcase(sample.stem, args.subset)]
    if not samples:
        raise SystemExit(f"no stem in {args.data} matches {args.subset!r}")
    args.out.mkdir(parents=True, exist_ok=True)
    variants = [{}] + [
        dict(pair.split("=", 1) for pair in text.split("&")) for text in args.variants.split(",") if text
    ]
    grabcut: dict[str, Summary] = {}
    soft: dict[str, softedges.SoftSummary] = {}
    composites = softedges.composites(samples[: args.soft_edges])
    models = [name.strip() for name in args.models.split(",") if name.strip()]
    runs: list[tuple[Callable[[], Answerer], list[dict[str, str]]]] = []
    for model in models:
        runs.append((lambda model=model: answerers.start(model, dict(os.environ)), variants))
        if args.reference and model != answerers.MODNET:
            runs.append((lambda model=model: answerers.start(model, {}, reference=True), [{}]))
    candidates = [name for name in args.edges.split(",") if name]
    for start, queries in runs:
        function = start()
        try:
            for query in queries:
                answerers_here = [function, *(Refined(function, name) for name in candidates if query == {})]
                for answerer in answerers_here:
                    name = " ".join([answerer.model, *(f"{key}={value}" for key, value in query.items())])
                    measured = measure(answerer, samples, query)
                    grabcut[name] = summarize([one.scores for one in measured], [one.seconds for one in measured])
                    contact_sheet(measured, args.out / f"worst-{_file_name(name)}.png")
                    soft[name] = softedges.measure(answerer.cutout(query), composites)
                    print(f"{name}: done", file=sys.stderr)
        finally:
            function.stop()
    report = "\n\n".join(
        [
            table(grabcut, f"{args.data.name}{'' if args.subset == '*' else ' ' + args.subset}: {len(samples)} photos"),
            softedges.table(soft, len(composites)),
        ]
    )
    (args.out / "quality.md").write_text(report + "\n")
    found = {
        "set": str(args.data),
        "masks": {name: one.as_dict() for name, one in grabcut.items()},
        "soft_edges": {name: one.as_dict() for name, one in soft.items()},
    }
    (args.out / "quality.json").write_text(json.dumps(found, indent=2))
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
