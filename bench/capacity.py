"""`make capacity`: service times measured on this machine, turned into replicas, autoscaling values and cost.

For each model (CAPACITY_MODELS: the quality tier, isnet-int8+u2netp, and its fp32 original, the
fast tier u2net-int8, and u2net and u2netp), one
replica (MAX_INFLIGHT=1, both CPUs) serves each photo size back to back: that is the service
time S. A replica then does 3600 / mean(S) images an hour. How many replicas a rate needs at a
p95 target comes from harness/queueing.py (M/G/c); the target is P95_TARGET_S, or twice a
model's own mean service time where that is longer (a request then waits at most about as long
as it is served). bench/platforms.py says which figure holds on which platform: queued (M/G/c) on
Knative and for OpenFaaS async calls, sync calls refused with 429 and retried by the client on
OpenFaaS (harness/retrying.py), and CE's fixed replica count. Two points are checked for real on one
replica: Poisson arrivals queued in front of it at half its capacity, and Poisson photos at 30 % of it
for SYNC_CHECK_SECONDS, each retrying its 429s on the client's schedule; measured figures beside the
models'. Written to build/capacity.md and build/capacity.json.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from PIL import Image
from skimage import data

from bench import platforms
from bench.processes import start_ours
from harness.load import Shot, percentile, queued, retried, send
from harness.queueing import RUB_PER_REPLICA_MONTH, Service, p95_response, replicas_for, rub_per_1000
from harness.retries import ClientRetries
from harness.retrying import Routing, SyncCalls, bands, simulate

ROOT = Path(__file__).resolve().parent.parent
SIZES = ((800, 600), (1280, 960), (2000, 1500), (4032, 3024))
TYPICAL = (1280, 960)  # a photo as chat apps send it (the longer side at most 1280)
REPEATS = int(os.environ.get("CAPACITY_REPEATS", "10"))
RATES_PER_HOUR = (100, 1_000, 5_000, 20_000)
P95_TARGET_S = float(os.environ.get("P95_TARGET_S", "3"))
CHECK_UTILISATION = 0.5
CHECK_REQUESTS = int(os.environ.get("CHECK_REQUESTS", "80"))
# Sync calls are checked where a third of first tries are refused (the sync rows of the table see 15-35 %)
# and the client still rarely gives up; at the queued check's half, one replica already misses 3 %.
SYNC_CHECK_UTILISATION = 0.3
SYNC_CHECK_SECONDS = min(60.0, float(os.environ.get("SYNC_CHECK_SECONDS", "60")))
# What the model leaves out of a sync run: each refusal's round trip and a thread's wake-up (milliseconds
# each), and a CPU shared with the clients and with whatever else runs on the machine.
SYNC_SLACK_S = 0.1
# The design document's figures: Pixian at $0.07 an image, and its table's rate of 100 ₽ to the dollar.
PIXIAN_USD_PER_IMAGE = 0.07
RUB_PER_USD = 100.0


def _photo(size: tuple[int, int]) -> Shot:
    image = Image.fromarray(data.chelsea()).resize(size, Image.Resampling.BICUBIC)
    path = Path(tempfile.mkstemp(suffix=".jpg")[1])
    image.save(path, quality=90)
    return Shot(f"{size[0]}x{size[1]}", path.read_bytes(), size)


def measure(model: str, shots: list[Shot]) -> tuple[list[Service], dict, dict]:
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
        sync = sync_check(server.url, shot, typical)
        sync["service_after_s"] = _service_now(server.url, shot)
        print(f"{model} sync with retries at {SYNC_CHECK_UTILISATION:.0%}: {json.dumps(sync)}", flush=True)
    finally:
        server.stop()
    return services, check, sync


def sync_check(url: str, shot: Shot, typical: Service) -> dict:
    """Poisson photos on one replica, each retrying 429s as the client does, beside the simulation of the same."""
    retries = ClientRetries()
    rate = SYNC_CHECK_UTILISATION / typical.mean_s
    runs = retried(url, shot, rate=rate, seconds=SYNC_CHECK_SECONDS, retries=retries, seed=5)
    # The measured photos as the simulation counts its own: one figure, computed one way, for both.
    measured = SyncCalls(
        times_s=tuple(seconds for seconds, _ in runs),
        first_refused=sum(attempts > 1 or not math.isfinite(seconds) for seconds, attempts in runs),
        attempts=sum(attempts for _, attempts in runs),
    )
    model = simulate(typical.samples, 1, rate, routing=Routing.RANDOM, retries=retries)
    return {
        "model": typical.model,
        "service_s": typical.mean_s,
        "rate_per_s": rate,
        "seconds": SYNC_CHECK_SECONDS,
        "photos": measured.photos,
        "missed": {"measured": measured.missed_share, "model": model.missed_share},
        **{
            name: {
                "measured": _figure(measured, name),
                "model": _figure(model, name),
                "band": [band.low, band.high],
                "within": band.holds(_figure(measured, name)),
            }
            for name, band in bands(model, measured.photos, SYNC_SLACK_S).items()
        },
    }


def _figure(calls: SyncCalls, name: str) -> float:
    """One of the figures `bands` gives a band for, read from a run, measured or simulated."""
    return {"p95_s": calls.p95_s, "mean_s": calls.mean_s, "first_refused": calls.first_refused_share}[name]


def _service_now(url: str, shot: Shot) -> float:
    """The mean service time again, after the checks: on a shared machine it drifts, and a check run on a
    slower CPU than the one its samples came from fails for that reason alone."""
    with requests.Session() as session:
        return statistics.fmean(send(session, url, shot, 120).seconds for _ in range(5))


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


def report(
    services: list[Service], checks: list[dict], syncs: list[dict], by_platform: list[dict], ce: list[dict]
) -> str:
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
    lines += ["", *platforms.report(by_platform, ce)]
    lines += [
        "",
        "#### The sync model checked: Poisson photos on one replica, each retrying its 429s as the client does",
        "",
        "Each measured figure should fall in its band: for the p95, the model's quantiles between which 95 % of "
        "p95s taken from n photos fall (an exact binomial count); for the mean, two standard errors; for the "
        "share of first "
        f"tries refused, two binomial standard deviations; the times widened by {SYNC_SLACK_S} s each side for "
        "what the model leaves out (a refusal's round trip, thread wake-ups, a shared CPU). The service time "
        "measured again after the checks shows whether the CPU stayed as fast as when the samples were taken.",
        "",
        "| model | service s: samples, after | arrivals / s | seconds | photos | figure | measured | model | band "
        "| within |",
        "|---|---|---:|---:|---:|---|---:|---:|---|---|",
    ]
    for c in syncs:
        for name, label, form in (
            ("p95_s", "p95 s", "{:.2f}"),
            ("mean_s", "mean s", "{:.2f}"),
            ("first_refused", "first tries refused", "{:.0%}"),
        ):
            figure = c[name]
            band = "–".join(form.format(edge) for edge in figure["band"])
            lines.append(
                f"| {c['model']} | {c['service_s']:.2f}, {c['service_after_s']:.2f} | {c['rate_per_s']:.2f} | "
                f"{c['seconds']:.0f} | {c['photos']} | {label} | "
                f"{form.format(figure['measured'])} | {form.format(figure['model'])} | {band} | "
                f"{'yes' if figure['within'] else 'NO'} |"
            )
    return "\n".join(lines)


def main() -> int:
    shots = [_photo(size) for size in SIZES]
    services, checks, syncs = [], [], []
    for model in os.environ.get("CAPACITY_MODELS", "isnet-int8+u2netp isnet+u2netp u2net-int8 u2net u2netp").split():
        measured, check, sync = measure(model, shots)
        services += measured
        checks.append(check)
        syncs.append(sync)
    typical = [s for s in services if s.size == TYPICAL]
    by_platform = platforms.by_platform(typical, RATES_PER_HOUR, p95_target)
    ce = platforms.community(typical, p95_target)
    text = report(services, checks, syncs, by_platform, ce)
    out = ROOT / "build"
    out.mkdir(exist_ok=True)
    (out / "capacity.md").write_text(text + "\n")
    rows = [
        {"model": s.model, "size": s.size, "mean_s": s.mean_s, "p95_s": s.p95_s, "cv2": s.cv2, "per_hour": s.per_hour}
        for s in services
    ]
    figures = {"services": rows, "checks": checks, "sync_checks": syncs, "by_platform": by_platform, "ce": ce}
    (out / "capacity.json").write_text(json.dumps(figures, indent=2))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
