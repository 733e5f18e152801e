"""`make capacity`: service times measured on this machine, turned into replicas, autoscaling values and cost.

For each model (CAPACITY_MODELS: the quality tier, isnet-int8+u2netp, and its fp32 original, the
fast tier u2net-int8, and u2net and u2netp), one
replica (MAX_INFLIGHT=1, both CPUs) serves each photo size back to back: that is the service
time S. A replica then does 3600 / mean(S) images an hour. How many replicas a rate needs at a
p95 target comes from harness/queueing.py (M/G/c); the target is P95_TARGET_S, or twice a
model's own mean service time where that is longer (a request then waits at most about as long
as it is served). One point is
checked for real: Poisson arrivals queued in front of one replica at half its capacity, measured
p95 beside the estimate. Written to build/capacity.md and build/capacity.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from PIL import Image
from skimage import data

from bench.processes import start_ours
from harness.load import Shot, percentile, queued, send
from harness.queueing import RUB_PER_REPLICA_MONTH, Service, p95_response, replicas_for, rub_per_1000

ROOT = Path(__file__).resolve().parent.parent
SIZES = ((800, 600), (1280, 960), (2000, 1500), (4032, 3024))
TYPICAL = (1280, 960)  # a photo as chat apps send it (the longer side at most 1280)
REPEATS = int(os.environ.get("CAPACITY_REPEATS", "10"))
RATES_PER_HOUR = (100, 1_000, 5_000, 20_000)
P95_TARGET_S = float(os.environ.get("P95_TARGET_S", "3"))
CHECK_UTILISATION = 0.5
CHECK_REQUESTS = int(os.environ.get("CHECK_REQUESTS", "80"))
# The design document's figures: Pixian at $0.07 an image, and its table's rate of 100 ₽ to the dollar.
PIXIAN_USD_PER_IMAGE = 0.07
RUB_PER_USD = 100.0


def _photo(size: tuple[int, int]) -> Shot:
    image = Image.fromarray(data.chelsea()).resize(size, Image.Resampling.BICUBIC)
    path = Path(tempfile.mkstemp(suffix=".jpg")[1])
    image.save(path, quality=90)
    return Shot(f"{size[0]}x{size[1]}", path.read_bytes(), size)


def measure(model: str, shots: list[Shot]) -> tuple[list[Service], dict]:
    env = {**os.environ, "U2NET_HOME": os.environ.get("U2NET_HOME", str(ROOT / ".models"))}
    server = start_ours(sys.executable, model, env, Path(tempfile.mkstemp(suffix=".log")[1]))
    try:
        _wait_ready(server.url)
        services = []
        with requests.Session() as session:
            for shot in shots:
                for _ in range(2):
                    send(session, server.url, shot, 120)
                times = []
                for _ in range(REPEATS):
                    outcome = send(session, server.url, shot, 120)
                    if outcome.status != 200 or not outcome.correct:
                        raise RuntimeError(f"{model} {shot.name}: {outcome}")
                    times.append(outcome.seconds)
                services.append(Service(model, shot.size, tuple(times)))
                print(f"{model} {shot.name}: mean {services[-1].mean_s:.3f} s, p95 {services[-1].p95_s:.3f} s")
        typical = next(s for s in services if s.size == TYPICAL)
        rate = CHECK_UTILISATION / typical.mean_s
        shot = next(s for s in shots if s.size == TYPICAL)
        measured = queued(server.url, shot, rate=rate, count=CHECK_REQUESTS, timeout=120, seed=3)
        check = {
            "model": model,
            "rate_per_s": rate,
            "requests": CHECK_REQUESTS,
            "measured_p95_s": percentile(measured, 0.95),
            "measured_mean_s": statistics.fmean(measured),
            "estimated_p95_s": p95_response(typical, 1, rate),
        }
        print(f"{model} queued at {CHECK_UTILISATION:.0%}: {json.dumps(check)}", flush=True)
    finally:
        server.stop()
    return services, check


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "_/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready")


def p95_target(service: Service) -> float:
    return max(P95_TARGET_S, 2 * service.mean_s)


def report(services: list[Service], checks: list[dict]) -> str:
    lines = ["#### Service time per image, one replica (2 CPUs, MAX_INFLIGHT=1)", ""]
    lines += ["| model | photo | mean s | p95 s | images / hour / replica |", "|---|---|---:|---:|---:|"]
    lines += [
        f"| {s.model} | {s.size[0]}×{s.size[1]} | {s.mean_s:.2f} | {s.p95_s:.2f} | {s.per_hour:,.0f} |"
        for s in services
    ]
    lines += ["", f"#### Replicas for a rate, {TYPICAL[0]}×{TYPICAL[1]} photos (M/G/c)", ""]
    lines += [
        "| model | p95 target s | images / hour | replicas (max-scale) | utilisation | ₽ / month | ₽ per 1000 images "
        "| Pixian ₽ per 1000 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    pixian = PIXIAN_USD_PER_IMAGE * RUB_PER_USD * 1000
    for service in (s for s in services if s.size == TYPICAL):
        target = p95_target(service)
        for rate in RATES_PER_HOUR:
            servers = replicas_for(service, rate, target)
            utilisation = rate / (servers * service.per_hour)
            lines.append(
                f"| {service.model} | {target:.1f} | {rate:,} | {servers} | {utilisation:.0%} | "
                f"{servers * RUB_PER_REPLICA_MONTH:,.0f} | {rub_per_1000(service, utilisation):,.1f} | {pixian:,.0f} |"
            )
    break_even = RUB_PER_REPLICA_MONTH / (PIXIAN_USD_PER_IMAGE * RUB_PER_USD)
    lines += [
        "",
        f"One replica kept up all month costs {RUB_PER_REPLICA_MONTH:,.0f} ₽, what Pixian charges for "
        f"{break_even:,.0f} images.",
    ]
    lines += ["", "#### The estimate checked: Poisson arrivals queued in front of one replica", ""]
    lines += ["| model | arrivals / s | requests | measured p95 s | estimated p95 s |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {c['model']} | {c['rate_per_s']:.2f} | {c['requests']} | {c['measured_p95_s']:.2f} | "
        f"{c['estimated_p95_s']:.2f} |"
        for c in checks
    ]
    return "\n".join(lines)


def main() -> int:
    shots = [_photo(size) for size in SIZES]
    services, checks = [], []
    for model in os.environ.get("CAPACITY_MODELS", "isnet-int8+u2netp isnet+u2netp u2net-int8 u2net u2netp").split():
        measured, check = measure(model, shots)
        services += measured
        checks.append(check)
    text = report(services, checks)
    out = ROOT / "build"
    out.mkdir(exist_ok=True)
    (out / "capacity.md").write_text(text + "\n")
    rows = [
        {"model": s.model, "size": s.size, "mean_s": s.mean_s, "p95_s": s.p95_s, "cv2": s.cv2, "per_hour": s.per_hour}
        for s in services
    ]
    (out / "capacity.json").write_text(json.dumps({"services": rows, "checks": checks}, indent=2))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
