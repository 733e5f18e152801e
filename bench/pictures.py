"""make pictures: the README's two pictures, from the servers as they answer.

    python -m bench.pictures [--photo chelsea] [--out docs]

- tiers.png: one real photo cut out by both tiers (the fast tier, u2net-int8; the quality tier as
  this checkout serves it, the int8 model of the local ISNet file with u2netp's core), over a
  checkerboard so that what each left transparent shows, and below them the square where the two
  differ most, enlarged, so the hard edge can be seen rather than read about.
- try-it.png: the try-it page in headless Chromium (tests/js/tryit.mjs, as the browser test drives
  it) with the quality tier answering the same photo.

The photos are scikit-image's (chelsea and coffee: CC0; astronaut: NASA, public domain), which the
project may ship.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import requests
from PIL import Image, ImageDraw, ImageFont

from bench.processes import Server, clean_env, start_ours, time_to_ready
from harness import models
from harness.processes import ROOT

PHOTOS = ("chelsea", "coffee", "astronaut")
WINDOW = 80  # the enlarged square's side in the photo's pixels
ENLARGED = 4  # each of its pixels drawn as 4×4
CHECKER = 12
LABEL_HEIGHT = 28
GAP = 10


def photo(name: str) -> Image.Image:
    from skimage import data

    return Image.fromarray(getattr(data, name)()).convert("RGB")


def cutout(server: Server, body: bytes) -> Image.Image:
    with requests.Session() as session:
        response = server.post(session, body)
    response.raise_for_status()
    return Image.open(io.BytesIO(response.content)).convert("RGBA")


def checkered(cut: Image.Image, scale: int = 1) -> Image.Image:
    """`cut` over a grey checkerboard, each pixel drawn `scale`×`scale`."""
    big = cut.resize((cut.width * scale, cut.height * scale), Image.Resampling.NEAREST)
    ys, xs = np.mgrid[0 : big.height, 0 : big.width]
    board = np.where(((xs // CHECKER) + (ys // CHECKER)) % 2, 204, 255).astype(np.uint8)
    ground = Image.fromarray(np.dstack([board] * 3)).convert("RGBA")
    return Image.alpha_composite(ground, big).convert("RGB")


def most_different(first: Image.Image, second: Image.Image) -> tuple[int, int, int, int]:
    """The WINDOW-sided square where the two alphas differ most: the edge worth enlarging."""
    difference = np.abs(
        np.asarray(first.getchannel("A"), dtype=np.float64) - np.asarray(second.getchannel("A"), dtype=np.float64)
    )
    summed = difference.cumsum(0).cumsum(1)
    summed = np.pad(summed, ((1, 0), (1, 0)))
    side = min(WINDOW, first.width, first.height)
    totals = summed[side:, side:] - summed[:-side, side:] - summed[side:, :-side] + summed[:-side, :-side]
    top, left = np.unravel_index(int(np.argmax(totals)), totals.shape)
    return (int(left), int(top), int(left) + side, int(top) + side)


def sheet(original: Image.Image, cuts: dict[str, Image.Image]) -> Image.Image:
    """The photo and each tier's cut-out in a row; under each cut-out its enlarged square, and the photo's."""
    box = most_different(*cuts.values())
    panels = [("the photo", original.convert("RGBA")), *cuts.items()]
    font = ImageFont.load_default(size=16)
    width, height = original.size
    zoom = (box[2] - box[0]) * ENLARGED
    column = max(width, zoom)
    out = Image.new("RGB", (len(panels) * (column + GAP) + GAP, 2 * LABEL_HEIGHT + height + zoom + 3 * GAP), "white")
    pen = ImageDraw.Draw(out)
    for index, (label, picture) in enumerate(panels):
        left = GAP + index * (column + GAP)
        pen.text((left, 6), label, fill="black", font=font)
        shown = picture.convert("RGB") if index == 0 else checkered(picture)
        out.paste(shown, (left, LABEL_HEIGHT))
        pen.rectangle([left + box[0], LABEL_HEIGHT + box[1], left + box[2], LABEL_HEIGHT + box[3]], outline="#d62728")
        below = LABEL_HEIGHT + height + GAP
        pen.text((left, below + 4), f"the red square, enlarged {ENLARGED} times", fill="black", font=font)
        crop = picture.crop(box)
        enlarged = (
            crop.convert("RGB").resize((zoom, zoom), Image.Resampling.NEAREST)
            if index == 0
            else checkered(crop, ENLARGED)
        )
        out.paste(enlarged, (left, below + LABEL_HEIGHT))
    return out


def screenshot(server: Server, body: bytes, out: Path) -> None:
    """The try-it page answering `body`, driven in headless Chromium by the browser test's own script."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit("Node.js drives the browser: make pictures installs playwright-core, not Node itself")
    with tempfile.TemporaryDirectory() as work:
        picture = Path(work) / "photo.jpg"
        picture.write_bytes(body)
        url = server.url.removesuffix("/")
        script = str(ROOT / "tests" / "js" / "tryit.mjs")
        subprocess.run([node, script, url, str(picture), str(out)], check=True, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", choices=PHOTOS, default="chelsea")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    original = photo(args.photo)
    buffer = io.BytesIO()
    original.save(buffer, "JPEG", quality=92)
    body = buffer.getvalue()
    work = Path(tempfile.mkdtemp(prefix="remove-bg-pictures-"))
    env = clean_env(work / "numba", ROOT / ".models")
    tiers = {"fast tier (u2net-int8)": models.FAST, "quality tier (ISNet int8 + u2netp)": models.QUALITY}
    cuts: dict[str, Image.Image] = {}
    for label, model in tiers.items():
        server = start_ours(sys.executable, model, env, work / f"{model}.log")
        try:
            time_to_ready(server)
            cuts[label] = cutout(server, body)
            if model == models.QUALITY:
                screenshot(server, body, args.out / "try-it.png")
        finally:
            server.stop()
    args.out.mkdir(parents=True, exist_ok=True)
    sheet(original, cuts).save(args.out / "tiers.png", optimize=True)
    print(f"{args.out / 'tiers.png'}, {args.out / 'try-it.png'} ({args.photo})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
