"""make quantized: each int8 model against its original on the ground truth, judged by the rule that decides
whether it may be the default.

An int8 model is as good as its original when, over a whole set, GrabCut's MAE is at most 0.002
higher and its mean IoU at most 0.005 lower, and on the measured mattes SAD and soft-band MSE
are at most 3 % higher (each set of `alphamatting/{low,high}`). Both run through the function as
the server runs them, the quality tier's core model included on both sides.

    python -m bench.quantized                     # both tiers, the three shared sets
    python -m bench.quantized --tiers fast --sets grabcut50
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench import answerers
from bench.quality import load_set, measure, scored
from harness import models, softedges
from harness.processes import ROOT
from harness.quality import markdown_table, soft_score, summarize

SHARED = ROOT.parent / "shared" / "quality"
SETS = ("grabcut50", "alphamatting/low", "alphamatting/high")
TIERS = {
    "fast": (models.PARITY, models.FAST),
    "quality": (models.QUALITY_FP32, models.QUALITY),
}
MAE_MARGIN = 0.002
IOU_MARGIN = 0.005
SOFT_MARGIN = 0.03
DEFAULT_OUT = Path("bench/results/quantized.json")


@dataclass(frozen=True)
class Judged:
    """One measure of one set: the original's value, the int8 model's, and whether it is within its margin."""

    tier: str
    data: str
    measure: str
    original: float
    quantized: float
    within: bool

    @property
    def change(self) -> str:
        if self.measure in ("SAD", "soft-band MSE"):
            return f"{self.quantized / self.original - 1:+.1%}"
        return f"{self.quantized - self.original:+.4f}"


def _scores(model: str, data: Path) -> dict[str, float]:
    """A model's scores over a set: MAE and mean IoU on a binary truth, SAD and soft-band MSE on mattes."""
    samples = load_set(data)
    truths = {sample.stem: np.asarray(softedges.opened(sample.alpha, "L")) for sample in samples}
    answerer = answerers.start(model, dict(os.environ))
    try:
        measured = measure(answerer, samples, {})
    finally:
        answerer.stop()
    if data.name == "grabcut50":
        summary = summarize(scored(measured, truths), [one.seconds for one in measured])
        return {"MAE": summary.mae, "IoU": summary.iou_mean}
    soft = [soft_score(one.alpha, truths[one.sample.stem]) for one in measured]
    return {"SAD": statistics.fmean(s.sad for s in soft), "soft-band MSE": statistics.fmean(s.mse for s in soft)}


def within(measure: str, original: float, quantized: float) -> bool:
    if measure == "MAE":
        return quantized <= original + MAE_MARGIN
    if measure == "IoU":
        return quantized >= original - IOU_MARGIN
    return quantized <= original * (1 + SOFT_MARGIN)


def judge(tier: str, data: Path) -> list[Judged]:
    original, quantized = TIERS[tier]
    before, after = _scores(original, data), _scores(quantized, data)
    name = str(data.relative_to(SHARED)) if data.is_relative_to(SHARED) else data.name
    return [Judged(tier, name, key, before[key], after[key], within(key, before[key], after[key])) for key in before]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quantized", description=__doc__.splitlines()[0])
    parser.add_argument("--tiers", default=",".join(TIERS), help="fast, quality")
    parser.add_argument("--sets", default=",".join(SETS), help=f"under {SHARED}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    rows = [
        judged
        for tier in args.tiers.split(",")
        for data in args.sets.split(",")
        for judged in judge(tier, SHARED / data)
    ]
    table = [
        [
            f"{row.tier}: {TIERS[row.tier][1]} against {TIERS[row.tier][0]}",
            row.data,
            row.measure,
            f"{row.original:.4f}",
            f"{row.quantized:.4f}",
            row.change,
            "yes" if row.within else "**no**",
        ]
        for row in rows
    ]
    title = "int8 against the original on the ground truth (bench/quantized.py)"
    print(markdown_table(title, ["tier", "set", "measure", "original", "int8", "change", "as good"], table))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([asdict(row) for row in rows], indent=2))
    for tier in dict.fromkeys(row.tier for row in rows):
        verdict = all(row.within for row in rows if row.tier == tier)
        print(f"{tier}: {TIERS[tier][1]} is {'as good as' if verdict else 'NOT as good as'} {TIERS[tier][0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
