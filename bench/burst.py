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
import os
import sys
import tempfile
from pathlib import Path

from bench.processes import clean_env, start_ours, time_to_ready
from harness import models
from harness.burst import SIZE, Burst, burst, photo
from harness.load import Shot
from harness.processes import ROOT

CLIENTS = 4
SECONDS = 45.0


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
