"""make bench: our server against rembg's own server and rembg.remove(), in one run, as ratios.

    python -m bench.run [--models u2net-int8 u2net u2netp] [--repeat 7] [--burst 8]

Prints a markdown table and writes bench/results/latest.{md,json}. Every figure of ours is also
given as a ratio to the peer measured in the same run on the same machine. An int8 model's peer is
its original as rembg serves it (u2net for u2net-int8): what the function replaces.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import requests
from PIL import Image
from skimage import data

from bench import measure, report
from bench.processes import Server, clean_env, first_success, start_ours, start_rembg_server, time_to_ready
from harness.processes import ROOT

SIZES = {"512x512": (512, 512), "1280x960": (1280, 960), "4032x3024": (4032, 3024)}
BURST_SIZE = "4032x3024"
LARGEST = (5773, 4330)  # 25 MP, the MAX_PIXELS default
CLIENTS = (1, 2, 4)


def photo_jpeg(size: tuple[int, int]) -> bytes:
    """The astronaut photo from scikit-image, upscaled where needed, as a quality-90 JPEG."""
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).resize(size, Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def run_server(server: Server, bodies: dict[str, bytes], repeat: int, burst: int, largest: bytes) -> dict:
    ready = time_to_ready(server)
    result: dict = {"ready_s": ready, "cold_start_s": first_success(server, bodies["1280x960"])}
    result["latency"] = {name: asdict(measure.http_latency(server, body, repeat)) for name, body in bodies.items()}
    result["throughput"] = {
        str(clients): asdict(measure.throughput(server, bodies[BURST_SIZE], clients, burst)) for clients in CLIENTS
    }
    started = time.perf_counter()
    server.post(requests.Session(), largest).raise_for_status()
    result["largest_s"] = time.perf_counter() - started
    result["peak_rss_mb"] = server.peak_rss_mb()
    return result


def run_in_process(model: str, bodies: dict[str, bytes], repeat: int) -> dict:
    from rembg import new_session, remove

    session = new_session(model)
    result: dict = {"model_time_s": measure.model_time(session, repeat * 3)}
    result["latency"] = {
        name: asdict(measure.timed(lambda body=body: remove(body, session=session), repeat))
        for name, body in bodies.items()
    }
    return result


def our_model_time(model: str, repeat: int) -> float:
    """The function's own session of the model (an int8 model's, its optimised copy where there is one)."""
    from function.config import Settings
    from function.model.load import open_session
    from harness import models

    settings = Settings.from_env(models.environment(dict(os.environ), model))
    session = open_session(settings.model, len(os.sched_getaffinity(0)), settings.arena, settings.optimized_copy)
    return measure.model_time(session, repeat)


def bench_model(model: str, python: str, repeat: int, burst: int, workdir: Path) -> dict:
    from function.prepare.recipes import INT8

    recipe = INT8.get(model)
    peer_model = model if recipe is None else recipe.original
    bodies = {name: photo_jpeg(size) for name, size in SIZES.items()}
    largest = photo_jpeg(LARGEST)
    home = Path(os.environ.get("U2NET_HOME", ROOT / ".models"))
    results: dict = {}
    runs = [
        ("ours", lambda env, log: start_ours(python, model, env, log)),
        ("ours_inflight2", lambda env, log: start_ours(python, model, env, log, max_inflight=2)),
        ("rembg_s", lambda env, log: start_rembg_server(python, peer_model, env, log)),
    ]
    for name, start in runs:
        env = clean_env(Path(tempfile.mkdtemp(prefix="numba-", dir=workdir)), home)
        print(f"[{model}] {name} ...", file=sys.stderr, flush=True)
        server = start(env, workdir / f"{model}-{name}.log")
        try:
            results[name] = run_server(server, bodies, repeat, burst, largest)
        finally:
            server.stop()
    print(f"[{model}] rembg remove() in-process, {peer_model} ...", file=sys.stderr, flush=True)
    results["remove"] = run_in_process(peer_model, bodies, repeat)
    results["peer_model"] = peer_model
    results["ours"]["model_time_s"] = our_model_time(model, repeat * 3)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["u2net-int8", "u2net", "u2netp"])
    parser.add_argument("--repeat", type=int, default=7, help="timed requests per size")
    parser.add_argument("--burst", type=int, default=8, help="12 MP images per concurrency level")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="remove-bg-bench-") as workdir:
        results = {
            "machine": {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version()},
            "models": {
                model: bench_model(model, sys.executable, args.repeat, args.burst, Path(workdir))
                for model in args.models
            },
        }
    results["seconds"] = time.perf_counter() - started
    markdown = report.markdown(results)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2))
    (args.out / "latest.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
