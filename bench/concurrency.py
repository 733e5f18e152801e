"""make concurrency: each tier at MAX_INFLIGHT 1 and 2, the same clients, throughput, p95 and peak memory.

    python -m bench.concurrency [--seconds 40] [--models u2net-int8 isnet-int8+u2netp]

One replica (both CPUs) is kept busy by two closed-loop clients sending 1280×960 photos and, one
request in five, a 12 MP one, so that two large pictures are sometimes in work at once. With one
slot the second client's request is refused (429) and sent again after a pause, as the platform's
queue would hold it; with two, both are in work. Reported: served images a second, the p95 of the
served, and the process's peak resident memory (sampled), to set each tier's MAX_INFLIGHT and
Knative's containerConcurrency by.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.processes import clean_env, start_ours, time_to_ready
from bench.run import photo_jpeg
from harness import models
from harness.load import MemorySampler, Shot, closed_loop, percentile
from harness.processes import ROOT

CLIENTS = 2
SLOTS = (1, 2)
TYPICAL, LARGE = (1280, 960), (4000, 3000)


def shots() -> list[Shot]:
    """Mostly chat-size photos, and a camera original one request in five."""
    return [Shot("1280x960", photo_jpeg(TYPICAL), TYPICAL, 4), Shot("12 MP", photo_jpeg(LARGE), LARGE, 1)]


def measure(model: str, slots: int, seconds: float, mix: list[Shot]) -> dict:
    work = Path(tempfile.mkdtemp(prefix="remove-bg-concurrency-"))
    env = clean_env(work / "numba", ROOT / ".models")
    server = start_ours(sys.executable, model, env, work / "server.log", max_inflight=slots)
    try:
        time_to_ready(server)
        closed_loop(server.url, mix, clients=1, seconds=5, timeout=120)  # warm: the arena's high-water mark
        sampler = MemorySampler(server.proc.pid)
        sampler.start()
        outcomes = closed_loop(server.url, mix, clients=CLIENTS, seconds=seconds, timeout=120)
        memory = sampler.stop()
    finally:
        server.stop()
    served = [o.seconds for o in outcomes if o.status == 200]
    return {
        "model": model,
        "slots": slots,
        "images_per_s": len(served) / seconds,
        "p95_s": percentile(served, 0.95),
        "refused": sum(o.status == 429 for o in outcomes),
        "peak_mb": max(rss for _, rss in memory) / 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--models", nargs="+", default=[models.FAST, models.QUALITY])
    args = parser.parse_args(argv)
    print(f"| model | MAX_INFLIGHT | images / s | p95 s (served) | 429s | peak RSS MB |  ({CLIENTS} clients)")
    print("|---|---:|---:|---:|---:|---:|")
    mix = shots()
    for model in args.models:
        for slots in SLOTS:
            row = measure(model, slots, args.seconds, mix)
            print(
                f"| {model} | {slots} | {row['images_per_s']:.2f} | {row['p95_s']:.2f} | {row['refused']} "
                f"| {row['peak_mb']:.0f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
