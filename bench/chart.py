"""make chart: time per photo against megapixels, both tiers and `rembg s`, from one run, drawn as a PNG.

    python -m bench.chart [--repeat 3] [--out docs/speed.png]

Each server is started in turn on loopback (ours with the fast tier, ours with the quality tier as
this machine serves it, rembg's own server with its default u2net) and sent the same JPEGs, one
at a time; the median of `repeat` requests per size is a point. The numbers go to
build/chart.json and are printed as a table, with the CPU they ran on; the picture is drawn
with Pillow (no plotting library in the image or the dev tools).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bench import measure
from bench.processes import Server, clean_env, start_ours, start_rembg_server, time_to_ready
from bench.run import photo_jpeg
from function.model import optimized
from harness import models
from harness.processes import ROOT

SIZES = ((640, 480), (1280, 960), (2000, 1500), (2828, 2121), (4000, 3000))
FAST_AGAINST_REMBG_AT_12_MP = 0.15  # issue 25: the fast tier's 12 MP request against rembg's own server's
WIDTH, HEIGHT = 900, 520
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 30, 64, 60
COLOURS = {
    "fast tier (u2net-int8)": "#1f77b4",
    "quality tier (ISNet int8 + u2netp)": "#d62728",
    "rembg s (u2net)": "#7f7f7f",
}


@dataclass(frozen=True)
class Line:
    name: str
    points: list[tuple[float, float]]  # (megapixels, median seconds)


def cpu_model() -> str:
    for line in optimized.CPUINFO.read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown CPU"


def cpu_description() -> str:
    """What a figure ran on, as every report here names it."""
    return f"{cpu_model()}, {'with' if vnni() else 'without'} VNNI, {len(os.sched_getaffinity(0))} CPUs"


def vnni() -> bool:
    """From the kernel's flags, as the optimised copy's stamp reads them."""
    return bool({"avx512_vnni", "avx_vnni"} & set(optimized.cpu_features()))


def measure_server(server: Server, bodies: list[tuple[float, bytes]], repeat: int) -> list[tuple[float, float]]:
    time_to_ready(server)
    try:
        return [(megapixels, measure.http_latency(server, body, repeat).median) for megapixels, body in bodies]
    finally:
        server.stop()


def run(repeat: int) -> list[Line]:
    bodies = [(w * h / 1e6, photo_jpeg((w, h))) for w, h in SIZES]
    work = Path(tempfile.mkdtemp(prefix="remove-bg-chart-"))
    env = clean_env(work / "numba", Path(ROOT / ".models"))
    python = sys.executable
    starts = {
        "fast tier (u2net-int8)": lambda: start_ours(python, models.FAST, env, work / "fast.log"),
        "quality tier (ISNet int8 + u2netp)": lambda: start_ours(python, models.QUALITY, env, work / "quality.log"),
        "rembg s (u2net)": lambda: start_rembg_server(python, "u2net", env, work / "rembg.log"),
    }
    return [Line(name, measure_server(start(), bodies, repeat)) for name, start in starts.items()]


def draw(lines: list[Line], title: str, out: Path) -> None:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    pen = ImageDraw.Draw(image)
    font, small = ImageFont.load_default(size=16), ImageFont.load_default(size=13)
    most_x = max(x for line in lines for x, _ in line.points) * 1.05
    most_y = max(y for line in lines for _, y in line.points) * 1.1
    left, top, right, bottom = MARGIN_LEFT, MARGIN_TOP, WIDTH - MARGIN_RIGHT, HEIGHT - MARGIN_BOTTOM

    def at(x: float, y: float) -> tuple[float, float]:
        return (left + (right - left) * x / most_x, bottom - (bottom - top) * y / most_y)

    pen.text((left, 10), title, fill="black", font=font)
    pen.line([(left, top), (left, bottom), (right, bottom)], fill="black", width=1)
    for step in range(0, int(most_x) + 1, 2):
        x, _ = at(step, 0)
        pen.line([(x, bottom), (x, bottom + 5)], fill="black")
        pen.text((x - 4, bottom + 8), str(step), fill="black", font=small)
    tick = 0.5 if most_y <= 4 else 1.0
    value = 0.0
    while value <= most_y:
        _, y = at(0, value)
        pen.line([(left - 5, y), (right, y)], fill="#e5e5e5" if value else "black")
        pen.text((left - 40, y - 7), f"{value:.1f}", fill="black", font=small)
        value += tick
    pen.text(((left + right) // 2 - 40, HEIGHT - 28), "megapixels", fill="black", font=font)
    pen.text((8, top - 22), "seconds per photo", fill="black", font=small)
    for index, line in enumerate(lines):
        colour = COLOURS[line.name]
        points = [at(x, y) for x, y in line.points]
        pen.line(points, fill=colour, width=3)
        for x, y in points:
            pen.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
        pen.rectangle([left + 15, top + 10 + 22 * index, left + 35, top + 22 + 22 * index], fill=colour)
        pen.text((left + 42, top + 8 + 22 * index), line.name, fill="black", font=small)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "speed.png")
    args = parser.parse_args(argv)
    lines = run(args.repeat)
    cpu = cpu_description()
    draw(lines, f"Time per photo over HTTP, median of {args.repeat} ({cpu})", args.out)
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "chart.json").write_text(json.dumps({"cpu": cpu, "lines": [vars(line) for line in lines]}))
    print(f"| MP | {' | '.join(line.name for line in lines)} |")
    print("|---:|" + "---:|" * len(lines))
    for index, (w, h) in enumerate(SIZES):
        row = " | ".join(f"{line.points[index][1]:.2f}" for line in lines)
        print(f"| {w * h / 1e6:.1f} ({w}×{h}) | {row} |")
    print(f"\n{cpu}; picture: {args.out}")
    at_12_mp = {line.name: line.points[-1][1] for line in lines}
    fast, rembg = at_12_mp["fast tier (u2net-int8)"], at_12_mp["rembg s (u2net)"]
    ratio = fast / rembg
    verdict = "met" if ratio <= FAST_AGAINST_REMBG_AT_12_MP else "missed"
    limit = FAST_AGAINST_REMBG_AT_12_MP
    print(f"Timed target (issue 25): the fast tier at 12 MP {ratio:.3f}× rembg s (≤ {limit}×): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
