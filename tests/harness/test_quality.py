"""The quality metrics on masks whose scores are known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from harness.quality import UNCERTAIN, SoftScores, boundary_f, is_soft, score, soft_band, soft_score, summarize


def _square(size: int = 200, top: int = 50, left: int = 50, side: int = 100) -> np.ndarray:
    mask = np.zeros((size, size), dtype=np.uint8)
    mask[top : top + side, left : left + side] = 255
    return mask


def test_a_perfect_mask_scores_perfectly() -> None:
    truth = _square()
    scores = score(truth.copy(), truth)
    assert scores.mae == 0 and scores.iou == 1 and scores.boundary_f == 1
    assert scores.s_measure == pytest.approx(1, abs=1e-6)
    assert scores.weighted_f == pytest.approx(1, abs=1e-6)


def test_iou_and_mae_of_a_shifted_square() -> None:
    truth, ours = _square(), _square(left=60)
    scores = score(ours, truth)
    assert scores.iou == pytest.approx(90 * 100 / (110 * 100))
    assert scores.mae == pytest.approx(2 * 10 * 100 / 200**2)
    assert scores.boundary_f < 1
    assert 0.5 < scores.s_measure < 1 and 0.5 < scores.weighted_f < 1


def test_the_uncertain_band_is_left_out_of_every_metric() -> None:
    truth = _square()
    truth[48:52, 40:160] = UNCERTAIN  # the square's top edge, unsure
    ours = _square()
    ours[48:52] = 0  # disagrees with the truth only inside the band
    ours_scores, perfect = score(ours, truth), score(_square(), truth)
    assert ours_scores.mae == 0 and ours_scores.iou == 1
    assert ours_scores.s_measure == pytest.approx(perfect.s_measure, abs=1e-3)
    assert ours_scores.weighted_f == pytest.approx(perfect.weighted_f, abs=1e-3)


def test_soft_values_cost_mae_but_not_iou() -> None:
    truth = _square()
    ours = np.where(truth == 255, 200, 40).astype(np.uint8)
    scores = score(ours, truth)
    assert scores.iou == 1
    assert scores.mae == pytest.approx((55 * 100 * 100 + 40 * (200**2 - 100 * 100)) / 255 / 200**2)


def test_the_boundary_f_tolerates_a_few_pixels() -> None:
    truth = _square() > 0
    assert boundary_f(_square(left=52) > 0, truth) == 1.0
    assert boundary_f(_square(left=60) > 0, truth) < 0.8
    assert boundary_f(np.zeros_like(truth), truth) == 0.0
    assert boundary_f(np.zeros_like(truth), np.zeros_like(truth)) == 1.0


def test_a_summary_counts_failures_and_takes_the_median() -> None:
    truth = _square()
    scores = [score(truth, truth), score(_square(left=60), truth), score(np.zeros_like(truth), truth)]
    summary = summarize(scores, [0.1, 0.2, 0.3])
    assert summary.images == 3 and summary.iou_failures == 1
    assert summary.iou_median == pytest.approx(90 / 110)
    assert summary.seconds_mean == pytest.approx(0.2)


def test_masks_of_different_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="one shape"):
        score(np.zeros((3, 3), np.uint8), np.zeros((3, 4), np.uint8))


def _ramp(size: int = 300) -> np.ndarray:
    """A soft edge: 0 on the left, 255 on the right, a 20-pixel ramp between."""
    row = np.clip((np.arange(size) - 140) * 255 / 20, 0, 255)
    return np.rint(np.tile(row, (size, 1))).astype(np.uint8)


def test_a_matte_is_soft_and_a_mask_with_its_uncertain_band_is_not() -> None:
    mask = _square()
    assert not is_soft(mask)
    mask[48:52] = UNCERTAIN
    assert not is_soft(mask)
    assert is_soft(_ramp())


def test_the_soft_band_is_the_ramp_grown_with_the_picture_s_size() -> None:
    truth = _ramp(300)  # 300 px on the long side: grown by round(10 × 300 / 3000) = 1 pixel each side
    band = soft_band(truth)
    inner = (truth > 0) & (truth < 255)
    assert band[0].sum() == inner[0].sum() + 2
    big = _ramp(3000)
    assert soft_band(big)[0].sum() == ((big[0] > 0) & (big[0] < 255)).sum() + 20


def test_soft_scores_of_a_perfect_and_a_hard_matte() -> None:
    truth = _ramp()
    assert soft_score(truth.copy(), truth) == SoftScores(0.0, 0.0, 0.0)
    hard = np.where(truth >= 128, 255, 0).astype(np.uint8)
    scores = soft_score(hard, truth)
    difference = np.abs(hard / 255.0 - truth / 255.0)
    assert scores.sad == pytest.approx(difference.sum() / 1000)
    assert scores.mse == pytest.approx((difference[soft_band(truth)] ** 2).mean())
    assert scores.gradient > 0, "a hard edge's gradient is not the ramp's"
