"""make burst: clients sending 12 MP photos at one replica; its peak memory beside what one photo needs, and its speed.

    python -m bench.burst [--clients 4] [--seconds 45] [--model u2net-int8] [--variant 'NAME=VALUE ...'] [--rounds 1]

A replica serves one photo at a time (MAX_INFLIGHT=1): under a burst the others are refused with
a 429 or held as bodies in transit, and are sent again. What the process needs is then what one
photo at a time needs, and every byte more is what the burst left behind: an allocator keeping
the high-water mark of threads that took turns, say. The server is warmed with one photo (its
VmHWM then is "one photo"), then `clients` closed-loop clients post the photo for `seconds`,
each sending again 0.2 s after a 429. Reported: VmHWM after the warm photo and after the burst,
VmRSS after it, photos served a second, p50 and p95 of the served.

Each --variant is a server started with those environment settings added (glibc's
MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, say); '' is the server as
shipped. --rounds runs the variants in turn that many times, so that a neighbour's load on the
machine falls on all of them alike.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import requests
from PIL import Image
from skimage import data

from bench.processes import clean_env, start_ours, time_to_ready
from harness import models
from harness.load import Shot, closed_loop, summary
from harness.processes import ROOT, peak_rss_kb, rss_kb

CLIENTS = 4
SECONDS = 45.0
SIZE = (4000, 3000)  # 12 MP, a phone camera's original
REQUEST_TIMEOUT_S = 120.0
GRAIN = 20  # ± levels of noise a pixel


@dataclass(frozen=True)
class Burst:
    variant: str
    one_photo_mb: float  # VmHWM after the warm photo
    peak_mb: float  # VmHWM after the burst
    after_mb: float  # VmRSS after the burst
    photos_per_s: float
    p50_s: float
    p95_s: float
    refused: int
    incorrect: int


def photo(size: tuple[int, int] = SIZE) -> Shot:
    """scikit-image's chelsea with a camera's grain: 4.3 MB at 12 MP, as a phone's original (upscaled alone: 1 MB)."""
    smooth = np.asarray(Image.fromarray(data.chelsea()).resize(size, Image.Resampling.BICUBIC), dtype=np.int16)
    grain = np.random.default_rng(0).integers(-GRAIN, GRAIN, smooth.shape, dtype=np.int16)
    buffer = io.BytesIO()
    Image.fromarray((smooth + grain).clip(0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return Shot("{}x{}".format(*size), buffer.getvalue(), size)


def burst(url: str, pid: int, shot: Shot, *, clients: int, seconds: float, variant: str = "") -> Burst:
    """Warm a ready server at `url` (process `pid`) with one photo, then `clients` clients for `seconds`."""
    requests.post(url, data=shot.body, timeout=REQUEST_TIMEOUT_S).raise_for_status()
    one_photo = peak_rss_kb(pid)
    outcomes = closed_loop(url, [shot], clients=clients, seconds=seconds, timeout=REQUEST_TIMEOUT_S)
    report = summary(outcomes)
    return Burst(
        variant=variant,
        one_photo_mb=one_photo / 1024,
        peak_mb=peak_rss_kb(pid) / 1024,
        after_mb=rss_kb(pid) / 1024,
        photos_per_s=report["served"] / seconds,
        p50_s=report["p50_s"],
        p95_s=report["p95_s"],
        refused=report["statuses"].get("429", 0),
        incorrect=report["incorrect"],
    )


def measure(model: str, variant: str, shot: Shot, clients: int, seconds: float) -> Burst:
    """A fresh server of `model` with `variant`'s settings added, through one burst."""
    work = Path(tempfile.mkdtemp(prefix="remove-bg-burst-"))
    home = Path(os.environ.get("U2NET_HOME", ROOT / ".models"))
    env = {**clean_env(work / "numba", home), **settings_of(variant)}
    server = start_ours(sys.executable, model, env, work / "server.log")
    try:
        time_to_ready(server)
        return burst(server.url, server.proc.pid, shot, clients=clients, seconds=seconds, variant=variant)
    finally:
        server.stop()


def settings_of(variant: str) -> dict[str, str]:
    """'NAME=VALUE NAME=VALUE' → its settings; '' → none."""
    pairs = [item.partition("=") for item in variant.split()]
    bad = [name for name, equals, _ in pairs if not equals or not name]
    if bad:
        raise ValueError(f"a variant is NAME=VALUE pairs, got {variant!r}")
    return {name: value for name, _, value in pairs}


def row(result: Burst) -> str:
    return (
        f"| {result.variant or 'as shipped'} | {result.one_photo_mb:.0f} | {result.peak_mb:.0f} "
        f"| {result.after_mb:.0f} | {result.photos_per_s:.3f} | {result.p50_s:.2f} | {result.p95_s:.2f} "
        f"| {result.refused} | {result.incorrect} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=models.FAST, help="as harness/models.py names them")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--variant", action="append", help="environment settings added, 'NAME=VALUE ...'")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--size", default="x".join(map(str, SIZE)), help="the photo's WxH (--clients 1: its time alone)"
    )
    args = parser.parse_args(argv)
    variants = args.variant or [""]
    for variant in variants:
        settings_of(variant)  # a typo fails before minutes of measuring
    width, _, height = args.size.partition("x")
    shot = photo((int(width), int(height)))
    size = f"{shot.name} JPEG ({len(shot.body) / 1e6:.1f} MB)"
    print(f"{args.model}, {args.clients} clients × {size}, {args.seconds:.0f} s each, MAX_INFLIGHT=1\n")
    print(
        "| variant | one photo: VmHWM MB | burst: VmHWM MB | VmRSS after MB | photos / s | p50 s | p95 s | 429s |"
        " wrong |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for _ in range(args.rounds):
        for variant in variants:
            print(row(measure(args.model, variant, shot, args.clients, args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
