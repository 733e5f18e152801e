"""The rule that decides whether an int8 model may stand in for its original: each tier's pair scored on the
ground truth, through the function as the server runs it (the quality tier's core model on both sides).

An int8 model is as good as its original when, over a whole set, GrabCut's MAE is at most MAE_MARGIN
higher and its mean IoU at most IOU_MARGIN lower, and on the measured mattes SAD and soft-band MSE are at
most SOFT_MARGIN higher (each set of `alphamatting/{low,high}`). `make quantized` (bench/quantized.py)
prints the table; tests/test_quantized.py holds each tier's model to it.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness import answerers, models, softedges
from harness.quality import soft_score, summarize
from harness.sets import SHARED, load_set, measure, scored

SETS = ("grabcut50", "alphamatting/low", "alphamatting/high")
TIERS = {
    "fast": (models.PARITY, models.FAST),
    "quality": (models.QUALITY_FP32, models.QUALITY),
}
MAE_MARGIN = 0.002
IOU_MARGIN = 0.005
SOFT_MARGIN = 0.03


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
