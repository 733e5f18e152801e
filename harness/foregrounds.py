"""The true foreground colours of a soft set: pymatting's estimate from each photo and its true alpha.

The halo (the old background's colour left in a cut-out's edge) is measured against the subject's
own colours where it is see-through, which no photo holds. The shared set's high-resolution
composites were made with this very estimator (Germer et al.'s multilevel foreground estimate),
so it stands in for the truth. pymatting runs on numba, whose JIT the function keeps off: the
estimate runs in a child process with the JIT on and numba's cache in build/numba, and each
result is kept as a PNG under build/quality/foregrounds.

    python -m harness.foregrounds OUT IMAGE ALPHA [IMAGE ALPHA ...]    # the child
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from harness.processes import ROOT

CACHE = ROOT / "build" / "quality" / "foregrounds"
NUMBA_CACHE = ROOT / "build" / "numba"


class HasImage(Protocol):
    stem: str
    image: Path
    alpha: Path


def foregrounds(samples: list[HasImage]) -> dict[str, np.ndarray]:
    """Each sample's true foreground colours (h×w×3, 0..255 float), estimated once and kept."""
    key = hashlib.sha256("\n".join(f"{one.image.resolve()}:{one.alpha.resolve()}" for one in samples).encode())
    folder = CACHE / key.hexdigest()[:16]
    missing = [one for one in samples if not (folder / f"{one.stem}.png").is_file()]
    if missing:
        pairs = [str(path) for one in missing for path in (one.image, one.alpha)]
        env = {**os.environ, "NUMBA_DISABLE_JIT": "0", "NUMBA_CACHE_DIR": str(NUMBA_CACHE)}
        subprocess.run([sys.executable, "-m", "harness.foregrounds", str(folder), *pairs], check=True, env=env)
    found = {}
    for one in samples:
        with Image.open(folder / f"{one.stem}.png") as colours:
            found[one.stem] = np.asarray(colours.convert("RGB"), dtype=np.float64)
    return found


def main(argv: list[str]) -> int:
    from pymatting import estimate_foreground_ml  # noqa: PLC0415 - the child alone imports it, its JIT on

    folder, paths = Path(argv[0]), argv[1:]
    folder.mkdir(parents=True, exist_ok=True)
    for image, alpha in zip(paths[::2], paths[1::2], strict=True):
        with Image.open(image) as photo, Image.open(alpha) as matte:
            pixels = np.asarray(photo.convert("RGB"), dtype=np.float64) / 255
            true = np.asarray(matte.convert("L"), dtype=np.float64) / 255
        colours = estimate_foreground_ml(pixels, true)
        out = Image.fromarray(np.clip(np.rint(colours * 255), 0, 255).astype(np.uint8))
        out.save(folder / f"{Path(image).stem}.png", compress_level=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
