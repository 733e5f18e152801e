"""`make bounds`: what the bounds the pod enforces cost, against the revision before them, side by side in one run.

    python -m bench.bounds [--base 8570c42] [--model u2net-int8] [--repeat 15]

Both servers (this checkout's and the base revision's, checked out under build/bounds-base) serve
the same model from the same model home; requests alternate between them, one photo size at a
time, so the machine's noise falls on both, in two rounds that start them in either order. Prints
each size's median time for each and the ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import requests

from bench.chart import cpu_description
from bench.processes import start_ours, time_to_ready
from bench.run import photo_jpeg
from harness.processes import ROOT

SIZES = {"1280x960": (1280, 960), "4032x3024 (12 MP)": (4032, 3024)}
WARM_UP = 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="8570c42", help="the revision before the bounds")
    parser.add_argument("--model", default="u2net-int8")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    base = ROOT / "build" / "bounds-base"
    checkout(args.base, base)
    env = {"U2NET_HOME": os.environ.get("U2NET_HOME", str(ROOT / ".models"))}
    logs = ROOT / "build" / "bounds"
    logs.mkdir(parents=True, exist_ok=True)
    names = ("bounded (this checkout)", f"unbounded ({args.base})")
    roots = {names[0]: ROOT, names[1]: base}
    bodies = {name: photo_jpeg(size) for name, size in SIZES.items()}
    times: dict[str, dict[str, list[float]]] = {size: {name: [] for name in names} for size in SIZES}
    # Two rounds, each starting the servers in the other order: the one started first ran 5 % slower in an
    # A/A run (the same revision twice), and swapping cancels that.
    for order in (names, names[::-1]):
        servers = {
            name: start_ours(sys.executable, args.model, env, logs / f"{index}.log", root=roots[name])
            for index, name in enumerate(order)
        }
        try:
            for server in servers.values():
                time_to_ready(server)
            for size, body in bodies.items():
                spent = _alternating([servers[name] for name in names], body, args.repeat)
                for name, each in zip(names, spent, strict=True):
                    times[size][name] += each
        finally:
            for server in servers.values():
                server.stop()
    machine = f"{cpu_description()}, Python {platform.python_version()}"
    print(f"{args.model}, {2 * args.repeat} requests each, alternating, two rounds; {machine}")
    print(f"| photo | {' | '.join(names)} | ratio |")
    print("|---|---:|---:|---:|")
    for size in SIZES:
        ours, theirs = (statistics.median(times[size][name]) for name in names)
        print(f"| {size} | {ours:.3f} s | {theirs:.3f} s | {ours / theirs:.3f} |", flush=True)
    return 0


def _alternating(servers: list, body: bytes, repeat: int) -> list[list[float]]:
    sessions = [requests.Session() for _ in servers]
    times: list[list[float]] = [[] for _ in servers]
    for round_ in range(WARM_UP + repeat):
        order = range(len(servers)) if round_ % 2 == 0 else reversed(range(len(servers)))
        for index in order:
            started = time.perf_counter()
            servers[index].post(sessions[index], body).raise_for_status()
            if round_ >= WARM_UP:
                times[index].append(time.perf_counter() - started)
    return times


def checkout(revision: str, where) -> None:
    """The base revision's tree at `where`, with the function's package link the Makefile makes."""
    if not where.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), revision], check=True)
    subprocess.run(["git", "-C", str(where), "checkout", "--quiet", "--detach", revision], check=True)
    link = where / "build" / "pythonpath" / "function"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to("../../functions/remove-bg")


if __name__ == "__main__":
    sys.exit(main())
