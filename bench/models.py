"""make models: per model, time per image at 1280×960 and 12 MP and the process's peak memory.

Each model runs in a fresh process of its own (so its peak resident memory is its own): loaded
as the function loads it, one warm-up, then the median of RUNS cut-outs of each size through
the function's own code path (bench/answerers.py; MODNet through the function's pipeline).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys

from PIL import Image

from bench import answerers
from harness.processes import PYTHONPATH, ROOT
from harness.quality import markdown_table

SIZES = ((1280, 960), (4000, 3000))
RUNS = 5
PAIRED_RUNS = 9


def _photo(size: tuple[int, int]) -> bytes:
    from skimage import data

    out = io.BytesIO()
    Image.fromarray(data.astronaut()).resize(size, Image.Resampling.BICUBIC).save(out, "JPEG", quality=90)
    return out.getvalue()


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def child(model: str) -> dict[str, float]:
    answerer = answerers.start(model, dict(os.environ))
    found: dict[str, float] = {}
    try:
        for size in SIZES:
            body = _photo(size)
            answerer.answer(body, {})
            found[f"{size[0]}x{size[1]}_s"] = statistics.median(answerer.answer(body, {})[1] for _ in range(RUNS))
    finally:
        answerer.stop()
    found["peak_rss_mb"] = _peak_rss_mb()
    return found


def paired(first: str, second: str) -> str:
    """Two models in one process, their requests alternating (A, B, A, B…): what the second adds, as a ratio.

    The machine is shared and noisy; alternating puts both under the same noise, so a few percent
    (a core model's cost) can be told from it. Memory is not measured here: two models are loaded.
    """
    one, other = (answerers.start(model, dict(os.environ)) for model in (first, second))
    rows = []
    try:
        for size in SIZES:
            body = _photo(size)
            one.answer(body, {})
            other.answer(body, {})
            times: dict[str, list[float]] = {first: [], second: []}
            for _ in range(PAIRED_RUNS):
                times[first].append(one.answer(body, {})[1])
                times[second].append(other.answer(body, {})[1])
            low, high = (statistics.median(times[model]) for model in (first, second))
            rows.append([f"{size[0]}×{size[1]}", f"{low:.3f}", f"{high:.3f}", f"{high / low - 1:+.1%}"])
    finally:
        one.stop()
        other.stop()
    columns = ["photo", f"{first} s", f"{second} s", "added"]
    return markdown_table(f"{second} against {first}: {PAIRED_RUNS} alternating runs each, median", columns, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--models", default="u2net,u2netp,isnet,isnet+u2netp,modnet", help="as bench/answerers.py names them"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--pair", help="two models, e.g. isnet,isnet+u2netp: the second's cost against the first's")
    args = parser.parse_args(argv)
    if args.pair:
        print(paired(*args.pair.split(",", 1)))
        return 0
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    rows = []
    for model in [name.strip() for name in args.models.split(",") if name.strip()]:
        env = {**os.environ, "PYTHONPATH": f"{PYTHONPATH}:{ROOT}"}
        command = [sys.executable, "-m", "bench.models", "--child", model]
        done = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{model}: {done.stderr[-2000:]}")
        found = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append([model, *(f"{found[f'{w}x{h}_s']:.3f}" for w, h in SIZES), f"{found['peak_rss_mb']:.0f}"])
    columns = ["model", "s / image, 1280×960", "s / image, 4000×3000 (12 MP)", "peak RSS (MB)"]
    print(markdown_table(f"Models: {RUNS} runs each, median, 2 CPUs", columns, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
