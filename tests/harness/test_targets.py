"""Issue 25's timed targets as make models says them: met or missed, each with its figures."""

from __future__ import annotations

from harness import models
from harness.targets import targets


def test_make_models_says_each_timed_target_met_or_missed() -> None:
    fast = {"model_s": 0.10, "1280x960_s": 0.115, "4000x3000_s": 0.5}
    quality = {"model_s": 0.35, "core_model_s": 0.15, "1280x960_s": 0.55, "4000x3000_s": 0.9}
    (line,) = targets(models.FAST, fast)
    assert "1.15×" in line and line.endswith(": met")
    at_chat, at_12_mp = targets(models.QUALITY, quality)
    assert "its models' runs 0.500 s" in at_chat and at_chat.endswith(": met"), "both models' runs count"
    assert "1.80×" in at_12_mp and at_12_mp.endswith(": missed")
    assert targets("modnet", {"1280x960_s": 0.4}) == [], "no target, and no model time, for others"
