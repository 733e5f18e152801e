"""make quality DATA=<set>: the function's own cut-outs scored against a set's truth, per model.

A set is `image/<stem>.*` + `alpha/<stem>.png`. Each image goes through the function object as
the server drives it (handler.new(), start() with the environment's settings, handle()), so what
is measured is what the server answers; `modnet` runs through the function's pipeline too
(harness/answerers.py). The alpha of each cut-out is scored:

- against a binary truth (GrabCut): MAE, IoU, S-measure, weighted F, boundary F, then the
  soft-edge composites made from the set (harness/softedges.py), and a sheet of the worst masks;
- against a soft truth (measured mattes): SAD, soft-band MSE, gradient error and the halo
  against the true foreground colours (harness/foregrounds.py), and sheets of full-resolution
  crops of the edges, every model side by side: the worst, and the last model's gains and
  losses against the first (bench/sheets.py).

Writes a markdown table, JSON and the sheets into OUT.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench import sheets
from bench.edges import CANDIDATES, Refined
from harness import answerers, softedges
from harness.answerers import Answerer
from harness.foregrounds import foregrounds
from harness.quality import (
    MatteSummary,
    Summary,
    is_soft,
    markdown_table,
    soft_band,
    soft_score,
    summarize,
    summarize_mattes,
)
from harness.sets import Measured, Sample, load_set, measure, scored

WORST_SHOWN = 8
DEFAULT_OUT = Path("bench/results/quality")


def mattes(measured: list[Measured], truths: dict[str, np.ndarray], colours: dict[str, np.ndarray]) -> MatteSummary:
    scores, halos = [], []
    for one in measured:
        truth = truths[one.sample.stem]
        if one.alpha.shape != truth.shape:
            raise RuntimeError(f"{one.sample.stem}: alpha {one.alpha.shape} against truth {truth.shape}")
        scores.append(soft_score(one.alpha, truth))
        halos.append(softedges.halo(one.cutout, truth / 255.0, colours[one.sample.stem], soft_band(truth)))
    return summarize_mattes(scores, halos, [one.seconds for one in measured])


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


def soft_table(results: dict[str, MatteSummary], title: str) -> str:
    columns = ["model", "SAD (÷1000)", "soft-band MSE", "gradient error (÷1000)", "halo (0–255)", "s / image"]
    rows = [
        [name, f"{one.sad:.2f}", f"{one.mse:.4f}", f"{one.gradient:.2f}", f"{one.halo:.1f}", f"{one.seconds_mean:.3f}"]
        for name, one in results.items()
    ]
    return markdown_table(title, columns, rows)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path, help="a set laid out as image/<stem>.* + alpha/<stem>.png")
    parser.add_argument("--models", default="u2net,u2netp", help="comma-separated models (harness/answerers.py)")
    parser.add_argument("--variants", default="", help="extra request options to compare, e.g. 'edges=rembg'")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--subset", default="*", help="only the stems matching this pattern, e.g. 'person*'")
    parser.add_argument("--reference", action="store_true", help="also score rembg's own remove() per model")
    parser.add_argument("--edges", default="", help=f"edge refinements to score too: {', '.join(CANDIDATES)}")
    parser.add_argument("--soft-edges", type=int, default=softedges.DEFAULT_IMAGES, help="images for the soft-edge set")
    return parser.parse_args(argv)


class Report:
    """What every answerer scored on the set, and the pictures of it."""

    def __init__(self, samples: list[Sample], out: Path, soft_edge_images: int) -> None:
        self.samples, self.out = samples, out
        self.truths = {sample.stem: np.asarray(softedges.opened(sample.alpha, "L")) for sample in samples}
        self.soft = any(is_soft(truth) for truth in self.truths.values())
        self.colours = foregrounds(samples) if self.soft else {}
        self.composites = [] if self.soft else softedges.composites(samples[:soft_edge_images])
        self.masks: dict[str, Summary] = {}
        self.edges: dict[str, softedges.SoftSummary] = {}
        self.mattes: dict[str, MatteSummary] = {}
        self.alphas: dict[str, dict[str, np.ndarray]] = {}

    def add(self, name: str, answerer: Answerer, query: dict[str, str]) -> None:
        measured = measure(answerer, self.samples, query)
        if self.soft:
            self.mattes[name] = mattes(measured, self.truths, self.colours)
            self.alphas[name] = {one.sample.stem: one.alpha for one in measured}
            return
        scores = scored(measured, self.truths)
        self.masks[name] = summarize(scores, [one.seconds for one in measured])
        worst = sorted(zip(measured, scores, strict=True), key=lambda pair: pair[1].iou)[:WORST_SHOWN]
        rows = [(one.sample.image, one.sample.alpha, one.alpha) for one, _ in worst]
        sheets.worst_masks(rows, self.out / f"worst-{_file_name(name)}.png")
        if self.composites:  # --soft-edges 0: none made, none measured
            self.edges[name] = softedges.measure(answerer.cutout(query), self.composites)

    def write(self, title: str, data: Path) -> str:
        if self.soft:
            text = soft_table(self.mattes, f"{title}, measured mattes")
            photos = {one.stem: one.image for one in self.samples}
            sheets.edge_crops(photos, self.truths, self.alphas, self.out / "edges.jpg")
            if len(self.alphas) > 1:
                for view in ("gains", "losses"):
                    sheets.edge_crops(photos, self.truths, self.alphas, self.out / f"{view}.jpg", view=view, rows=4)
        else:
            parts = [table(self.masks, title)] + (
                [softedges.table(self.edges, len(self.composites))] if self.edges else []
            )
            text = "\n\n".join(parts)
        (self.out / "quality.md").write_text(text + "\n")
        found = {
            "set": str(data),
            "masks": {name: one.as_dict() for name, one in self.masks.items()},
            "soft_edges": {name: one.as_dict() for name, one in self.edges.items()},
            "mattes": {name: one.as_dict() for name, one in self.mattes.items()},
        }
        (self.out / "quality.json").write_text(json.dumps(found, indent=2))
        return text


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    samples = [sample for sample in load_set(args.data) if fnmatch.fnmatchcase(sample.stem, args.subset)]
    if not samples:
        raise SystemExit(f"no stem in {args.data} matches {args.subset!r}")
    args.out.mkdir(parents=True, exist_ok=True)
    variants = [{}] + [
        dict(pair.split("=", 1) for pair in text.split("&")) for text in args.variants.split(",") if text
    ]
    report = Report(samples, args.out, args.soft_edges)
    runs: list[tuple[Callable[[], Answerer], list[dict[str, str]]]] = []
    for model in [name.strip() for name in args.models.split(",") if name.strip()]:
        runs.append((lambda model=model: answerers.start(model, dict(os.environ)), variants))
        if args.reference and model != answerers.MODNET and "+" not in model:  # rembg has no core model
            runs.append((lambda model=model: answerers.start(model, {}, reference=True), [{}]))
    candidates = [name for name in args.edges.split(",") if name]
    for start, queries in runs:
        function = start()
        try:
            for query in queries:
                for answerer in [function, *(Refined(function, name) for name in candidates if query == {})]:
                    name = " ".join([answerer.model, *(f"{key}={value}" for key, value in query.items())])
                    report.add(name, answerer, query)
                    print(f"{name}: done", file=sys.stderr)
        finally:
            function.stop()
    print(
        report.write(
            f"{args.data.name}{'' if args.subset == '*' else ' ' + args.subset}: {len(samples)} photos", args.data
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
