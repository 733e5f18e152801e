"""Issue 25's timed targets, and how `make models` says each was met or missed (bench/models.py measures).

A tier's request may take at most a given multiple of its models' own run time, per photo size (the
fast tier at 1280×960 only), and a core model may add at most CORE_ADDS_AT_MOST to a request.
"""

from __future__ import annotations

from harness import models

SIZES = ((1280, 960), (4000, 3000))  # the photo sizes make models times: a chat photo and 12 MP
REQUEST_OVER_MODELS = {models.FAST: {SIZES[0]: 1.2}, models.QUALITY: {SIZES[0]: 1.2, SIZES[1]: 1.6}}
CORE_ADDS_AT_MOST = 0.10


def verdict(met: bool) -> str:
    return "met" if met else "missed"


def targets(model: str, found: dict[str, float]) -> list[str]:
    """Issue 25's timed targets for a tier, each said met or missed with its figures; none for other models."""
    if model not in REQUEST_OVER_MODELS:
        return []
    models_s = found["model_s"] + found.get("core_model_s", 0.0)
    lines = []
    for (width, height), limit in REQUEST_OVER_MODELS[model].items():
        ratio = found[f"{width}x{height}_s"] / models_s
        lines.append(
            f"- {model}, {width}×{height}: a request {found[f'{width}x{height}_s']:.3f} s, its models' runs "
            f"{models_s:.3f} s: {ratio:.2f}× (target ≤ {limit}×): {verdict(ratio <= limit)}"
        )
    return lines
