"""`make restart`: how long `make serve` takes from the command to its first cut-out on a prepared checkout,
against another revision in the same run.

    python -m bench.restart --base 5c6f06f [--model u2net-int8] [--repeat 5]

Each round runs `make serve` in this checkout and in the base revision's (checked out under
build/restart-base, its requirement files dated back so its make reuses this venv instead of
installing again), in alternating order, both on the same model home; the clock runs from the
command to the first 200 answer to a 512×512 photo posted every 50 ms. Prints the medians, the
ratio and the CPU: the machine is shared, so the ratio is the figure, the seconds its conditions.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench.bounds import checkout
from bench.chart import cpu_description
from bench.run import photo_jpeg
from harness.processes import ROOT, free_port

POLL_SECONDS = 0.05
GIVE_UP_SECONDS = 120.0


def first_cut_out(root: Path, model: str, body: bytes, log: Path) -> float:
    """Seconds from `make serve` in `root` to its first cut-out; the server is stopped again."""
    port, metrics_port = free_port(), free_port()
    command = ["make", "--no-print-directory", "serve", f"PORT={port}", f"METRICS_PORT={metrics_port}"]
    command += [f"MODEL={model}", f"VENV={ROOT / '.venv'}"]
    env = {**os.environ, "U2NET_HOME": os.environ.get("U2NET_HOME", str(ROOT / ".models"))}
    started = time.perf_counter()
    with log.open("w") as out:
        server = subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        with requests.Session() as session:
            while time.perf_counter() - started < GIVE_UP_SECONDS:
                if server.poll() is not None:
                    raise RuntimeError(f"make serve in {root} stopped with {server.returncode}: see {log}")
                try:
                    answer = session.post(f"http://127.0.0.1:{port}/", data=body, timeout=30)
                    if answer.status_code == 200:
                        return time.perf_counter() - started
                except requests.ConnectionError:
                    pass
                time.sleep(POLL_SECONDS)
        raise RuntimeError(f"no cut-out from {root} within {GIVE_UP_SECONDS:g} s: see {log}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the revision to compare with (make restart: RESTART_BASE)")
    parser.add_argument("--model", default="u2net-int8")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    base = ROOT / "build" / "restart-base"
    checkout(args.base, base)
    for found in [*base.rglob("requirements*.txt"), *base.rglob("requirements*.lock")]:  # make's venv rules
        os.utime(found, (0, 0))
    logs = ROOT / "build" / "restart"
    logs.mkdir(parents=True, exist_ok=True)
    names = ("this checkout", args.base)
    roots = dict(zip(names, (ROOT, base), strict=True))
    body = photo_jpeg((512, 512))
    first_cut_out(ROOT, args.model, body, logs / "prepare.log")  # the model prepared once, as "a prepared checkout"
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(args.repeat):
        for name in names if round_ % 2 == 0 else names[::-1]:
            times[name].append(first_cut_out(roots[name], args.model, body, logs / f"{name}.log"))
    ours, theirs = (statistics.median(times[name]) for name in names)
    print(
        f"make serve MODEL={args.model} to its first cut-out, {args.repeat} runs each, alternating; {cpu_description()}"
    )
    print(f"| {names[0]} | {names[1]} | ratio |\n|---:|---:|---:|")
    print(f"| {ours:.2f} s | {theirs:.2f} s | {ours / theirs:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
