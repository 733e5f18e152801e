"""The core's merge rule, floor by floor: how far ISNet must go before u2netp's sure foreground may raise it.

    python -m bench.merge [--floors 0,1,2,4,8,16,32,64,128]

For each photo of the three shared sets, ISNet int8's mask and u2netp's of the photo squashed to
ISNet's 1024² input (as the quality tier computes them), merged by `with_core` at each floor, are
scored by mean absolute error against the truth scaled to 1024²; ISNet alone beside them. One pass
of both models per photo, so every floor is judged on the same masks. docs/quality.md, "The
core's merge", is its table.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from PIL import Image

from function.config import Settings
from function.model.load import open_session
from function.picture.mask import _only, with_core
from harness import models
from harness.sets import SHARED, load_set

SETS = ("grabcut50", "alphamatting/low", "alphamatting/high")
ISNET_INPUT = (1024, 1024)


def error(mask: Image.Image, truth: np.ndarray) -> float:
    return float(np.abs(np.asarray(mask, dtype=np.float32) / 255 - truth).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floors", default="0,1,2,4,8,16,32,64,128")
    args = parser.parse_args(argv)
    floors = [int(floor) for floor in args.floors.split(",")]
    Image.MAX_IMAGE_PIXELS = None  # the shared mattes are up to 9 MP, read here, never served
    settings = Settings.from_env(models.settings(models.QUALITY))
    isnet = open_session(settings.model, 2, settings.arena)
    core = open_session(settings.core_model, 2, settings.arena)
    print("| ISNet must say more than | " + " | ".join(SETS) + " |")
    print("|---|" + "---:|" * len(SETS))
    found: dict[str, list[list[float]]] = {}
    for name in SETS:
        for sample in load_set(SHARED / name):
            picture = Image.open(sample.image).convert("RGB").resize(ISNET_INPUT, Image.Resampling.LANCZOS)
            truth = np.asarray(Image.open(sample.alpha).convert("L").resize(ISNET_INPUT), dtype=np.float32) / 255
            alone, sure = _only(isnet, picture), _only(core, picture)
            row = [error(alone, truth)] + [error(with_core(alone, sure, floor), truth) for floor in floors]
            found.setdefault(name, []).append(row)
    means = {name: np.mean(rows, axis=0) for name, rows in found.items()}
    for index, label in enumerate(["ISNet alone, no core", *(str(floor) for floor in floors)]):
        print(f"| {label} | " + " | ".join(f"{means[name][index]:.4f}" for name in SETS) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
