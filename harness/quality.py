"""How good a mask is against a true one, with the published baselines' definitions.

Truth masks are 8-bit: 0 background, 255 foreground, 128 the annotators' uncertain band, which
every metric leaves out. MAE and IoU skip those pixels. S-measure and weighted F are
pysodmetrics' own, which score whole images, so there the band is set to agree with the
prediction (its thresholded value): that reproduces the set's published baseline to the third
decimal from rembg's own masks, where reading the band as background (pysodmetrics' default)
falls 0.007 short. The boundary F counts edge pixels within a tolerance.

A soft truth (a measured matte, every value meaningful) is scored as the matting benchmark
scores it (Rhemann et al. 2009): SAD over the whole image, and the squared and gradient errors
in the soft band, the pixels strictly between 0 and 255 grown by about 10 pixels at 3000 pixels
on the long side (one 4-neighbour step at a time). These definitions make rembg's own masks
reproduce the shared set's published baseline to its last digit.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass

import numpy as np
import py_sod_metrics
from scipy import ndimage

UNCERTAIN = 128
BOUNDARY_TOLERANCE = 3  # pixels: about 0.6 % of these photos' 480-pixel side
IOU_FAILURE = 0.5
BAND_GROWTH = 10  # pixels the soft band grows by, at BAND_GROWTH_SIDE pixels on the long side
BAND_GROWTH_SIDE = 3000


@dataclass(frozen=True)
class Scores:
    mae: float  # mean |predicted − true| alpha, 0..1, over the certain pixels
    iou: float  # of the masks thresholded at one half, over the certain pixels
    s_measure: float
    weighted_f: float
    boundary_f: float  # F of the edges, within BOUNDARY_TOLERANCE pixels


def score(predicted: np.ndarray, truth: np.ndarray) -> Scores:
    """`predicted` and `truth` are uint8 masks of the same shape."""
    if predicted.shape != truth.shape or predicted.dtype != np.uint8 or truth.dtype != np.uint8:
        raise ValueError(f"expected two uint8 masks of one shape, got {predicted.shape} and {truth.shape}")
    certain = truth != UNCERTAIN
    true_fg = truth == 255
    mae = float(np.abs(predicted[certain] / 255.0 - true_fg[certain]).mean())
    ours = predicted >= UNCERTAIN
    union = np.count_nonzero((ours | true_fg) & certain)
    iou = np.count_nonzero(ours & true_fg & certain) / union if union else 1.0
    agreeing = np.where(certain, truth, np.where(ours, 255, 0)).astype(np.uint8)
    s_measure, weighted_f = py_sod_metrics.Smeasure(), py_sod_metrics.WeightedFmeasure()
    s_measure.step(pred=predicted, gt=agreeing)
    weighted_f.step(pred=predicted, gt=agreeing)
    return Scores(
        mae=mae,
        iou=float(iou),
        s_measure=float(s_measure.get_results()["sm"]),
        weighted_f=float(weighted_f.get_results()["wfm"]),
        boundary_f=boundary_f(ours, truth > UNCERTAIN),
    )


def boundary_f(ours: np.ndarray, truth: np.ndarray, tolerance: int = BOUNDARY_TOLERANCE) -> float:
    """F of two binary masks' edges: an edge pixel counts when the other edge is within `tolerance`."""
    our_edge, true_edge = _edge(ours), _edge(truth)
    if not our_edge.any() and not true_edge.any():
        return 1.0
    if not our_edge.any() or not true_edge.any():
        return 0.0
    near_true = ndimage.distance_transform_edt(~true_edge) <= tolerance
    near_ours = ndimage.distance_transform_edt(~our_edge) <= tolerance
    precision = np.count_nonzero(our_edge & near_true) / np.count_nonzero(our_edge)
    recall = np.count_nonzero(true_edge & near_ours) / np.count_nonzero(true_edge)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _edge(mask: np.ndarray) -> np.ndarray:
    """The mask's pixels that touch the outside (4-neighbourhood)."""
    return mask & ~ndimage.binary_erosion(mask, border_value=1)


def is_soft(truth: np.ndarray) -> bool:
    """A measured matte, not a mask: values other than 0, 255 and the uncertain band's 128."""
    return bool(np.any((truth != 0) & (truth != 255) & (truth != UNCERTAIN)))


def soft_band(truth: np.ndarray) -> np.ndarray:
    """The pixels where the true alpha is strictly between 0 and 255, grown with the picture's size."""
    grow = round(BAND_GROWTH * max(truth.shape) / BAND_GROWTH_SIDE)
    band = (truth > 0) & (truth < 255)
    return ndimage.binary_dilation(band, iterations=grow) if grow else band


@dataclass(frozen=True)
class SoftScores:
    sad: float  # Σ |α − α_true| over the image, ÷ 1000 (α in 0..1)
    mse: float  # mean (α − α_true)² over the soft band
    gradient: float  # Σ |∇α − ∇α_true| over the soft band, ÷ 1000 (Sobel magnitudes)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def soft_score(predicted: np.ndarray, truth: np.ndarray) -> SoftScores:
    """`predicted` and `truth` are uint8 alphas of one shape, `truth` a measured matte."""
    if predicted.shape != truth.shape or predicted.dtype != np.uint8 or truth.dtype != np.uint8:
        raise ValueError(f"expected two uint8 alphas of one shape, got {predicted.shape} and {truth.shape}")
    ours, true = predicted / 255.0, truth / 255.0
    band = soft_band(truth)
    return SoftScores(
        sad=float(np.abs(ours - true).sum() / 1000),
        mse=float(((ours - true)[band] ** 2).mean()) if band.any() else 0.0,
        gradient=float(np.abs(_gradient(ours) - _gradient(true))[band].sum() / 1000),
    )


def _gradient(alpha: np.ndarray) -> np.ndarray:
    return np.hypot(ndimage.sobel(alpha, axis=0), ndimage.sobel(alpha, axis=1))


@dataclass(frozen=True)
class Summary:
    images: int
    mae: float
    iou_mean: float
    iou_median: float
    iou_failures: int  # images below IOU_FAILURE
    s_measure: float
    weighted_f: float
    boundary_f: float
    seconds_mean: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def summarize(scores: list[Scores], seconds: list[float]) -> Summary:
    ious = [one.iou for one in scores]
    return Summary(
        images=len(scores),
        mae=statistics.fmean(one.mae for one in scores),
        iou_mean=statistics.fmean(ious),
        iou_median=statistics.median(ious),
        iou_failures=sum(iou < IOU_FAILURE for iou in ious),
        s_measure=statistics.fmean(one.s_measure for one in scores),
        weighted_f=statistics.fmean(one.weighted_f for one in scores),
        boundary_f=statistics.fmean(one.boundary_f for one in scores),
        seconds_mean=statistics.fmean(seconds),
    )


@dataclass(frozen=True)
class MatteSummary:
    images: int
    sad: float
    mse: float
    gradient: float
    halo: float  # harness/softedges.halo against the true foreground colours, 0..255
    seconds_mean: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def summarize_mattes(scores: list[SoftScores], halos: list[float], seconds: list[float]) -> MatteSummary:
    return MatteSummary(
        images=len(scores),
        sad=statistics.fmean(one.sad for one in scores),
        mse=statistics.fmean(one.mse for one in scores),
        gradient=statistics.fmean(one.gradient for one in scores),
        halo=statistics.fmean(halos),
        seconds_mean=statistics.fmean(seconds),
    )


def markdown_table(title: str, columns: list[str], rows: list[list[str]]) -> str:
    """A titled markdown table: the first column left-aligned, the figures right-aligned."""
    lines = [f"#### {title}", "", "| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
