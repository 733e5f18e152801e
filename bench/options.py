"""What each output option costs: time and bytes per request on one photo, through the function.

    python -m bench.options [--model u2net] [--size 4000x3000]

The function is started as the server starts it (harness/answerers.py); each option set is one
warm-up and the median of RUNS requests on scikit-image's astronaut, upscaled to the size asked.
The option table in docs/api.md comes from this.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys

from PIL import Image

from harness.answerers import Function
from harness.quality import markdown_table

RUNS = 3
CASES: tuple[dict[str, str], ...] = (
    {},
    {"crop": "true", "margin": "5%"},
    {"format": "jpeg"},
    {"format": "webp"},
    {"format": "webp", "quality": "80"},
    {"format": "delta_png"},
    {"format": "zip"},
    {"only_mask": "true"},
    {"bg_color": "#00ff00"},
    {"target_size": "1024 1024"},
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="u2net")
    parser.add_argument("--size", default="4000x3000", help="W×H of the photo")
    args = parser.parse_args(argv)
    from skimage import data

    size = tuple(int(side) for side in args.size.lower().split("x"))
    out = io.BytesIO()
    Image.fromarray(data.astronaut()).resize(size, Image.Resampling.BICUBIC).save(out, "JPEG", quality=90)
    body = out.getvalue()
    function = Function(args.model, dict(os.environ))
    rows = []
    try:
        for query in CASES:
            answer, _ = function.answer(body, query)
            seconds = statistics.median(function.answer(body, query)[1] for _ in range(RUNS))
            name = " ".join(f"{key}={value}" for key, value in query.items()) or "plain PNG"
            rows.append([name, f"{seconds:.2f}", f"{len(answer) / 1e6:.2f}"])
    finally:
        function.stop()
    title = f"Options: {args.model}, {size[0]}×{size[1]}, median of {RUNS}"
    print(markdown_table(title, ["options", "s / request", "MB out"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
