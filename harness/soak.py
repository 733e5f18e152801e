"""What `make soak` calls a failure (bench/soak.py runs it): a run's outcomes, memory and probes made a report,
and the report's verdict.

Resident memory leaked when both a window's floor (what stays between requests) and its peak (what a
burst reaches) grew by DRIFT_LIMIT_BYTES from the first window to the last (bench/soak.py says why the
floor alone is not enough). A run also fails if an accepted request was lost or answered wrongly, if
memory ever passed the pod's budget, if the last window's p95 is over P95_GROWTH times the first's, if a
health probe failed or was slow, or if the server did not exit 0 after SIGTERM.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.load import PROBE_BUDGET_S, Outcome, percentile, summary
from harness.memory import BUDGET_BYTES

DRIFT_LIMIT_BYTES = 50_000_000
P95_GROWTH = 1.5
WINDOWS = 4


def windows(outcomes: list[Outcome], start: float, end: float, count: int) -> list[dict]:
    """p95 and counts of the 200s in `count` equal windows of [start, end)."""
    width = (end - start) / count
    rows = []
    for index in range(count):
        low, high = start + index * width, start + (index + 1) * width
        served = [o.seconds for o in outcomes if low <= o.started < high and o.status == 200]
        rows.append({"window": index + 1, "served": len(served), "p95_s": percentile(served, 0.95)})
    return rows


@dataclass(frozen=True)
class Run:
    model: str
    seconds: float
    load: float  # arrival rate over capacity
    capacity: float  # images per second, one at a time
    outcomes: list[Outcome]
    memory: list[tuple[float, int]]
    probes: list[tuple[float, int | None]]
    started: float
    ended: float


def report_of(run: Run) -> dict:
    outcomes, memory, probes, started, ended = run.outcomes, run.memory, run.probes, run.started, run.ended
    window = (ended - started) / WINDOWS
    after_warm_up = [rss for at, rss in memory if at >= started]
    first = [rss for at, rss in memory if started <= at < started + window]
    last = [rss for at, rss in memory if at >= ended - window]
    return {
        "model": run.model,
        "seconds": run.seconds,
        "load_over_capacity": run.load,
        "capacity_per_s": run.capacity,
        "totals": summary(outcomes),
        "lost": sum(o.status is None and o.error != "client slots full" for o in outcomes),
        "wrong": sum(o.status is not None and not o.correct for o in outcomes),
        "server_errors": sum(o.status is not None and o.status >= 500 and o.status != 503 for o in outcomes),
        "windows": windows(outcomes, started, ended, WINDOWS),
        "rss_first_window_max_mb": max(first) / 1e6,
        "rss_last_window_max_mb": max(last) / 1e6,
        "rss_first_window_floor_mb": min(first) / 1e6,
        "rss_last_window_floor_mb": min(last) / 1e6,
        "rss_drift_mb": (min(last) - min(first)) / 1e6,
        "rss_peak_drift_mb": (max(last) - max(first)) / 1e6,
        "rss_peak_mb": max(after_warm_up) / 1e6,
        "probe_max_s": max(s for s, _ in probes),
        "probe_failures": sum(status != 200 for _, status in probes),
    }


def failures_in(report: dict) -> list[str]:
    failures = []
    if report["lost"] or report["wrong"] or report["server_errors"]:
        failures.append(f"lost {report['lost']}, wrong {report['wrong']}, 5xx {report['server_errors']}")
    if min(report["rss_drift_mb"], report["rss_peak_drift_mb"]) * 1e6 >= DRIFT_LIMIT_BYTES:
        floor, peak = report["rss_drift_mb"], report["rss_peak_drift_mb"]
        failures.append(f"resident memory leaked: floor {floor:+.0f} MB, peak {peak:+.0f} MB")
    if report["rss_peak_mb"] * 1e6 > BUDGET_BYTES:
        failures.append(f"resident memory peaked at {report['rss_peak_mb']:.0f} MB, over the pod's budget")
    first, last = report["windows"][0]["p95_s"], report["windows"][-1]["p95_s"]
    if last > P95_GROWTH * first:
        failures.append(f"p95 grew from {first:.2f} s to {last:.2f} s")
    if report["probe_failures"] or report["probe_max_s"] >= PROBE_BUDGET_S:
        failures.append(f"health probe: {report['probe_failures']} failures, slowest {report['probe_max_s']:.2f} s")
    if report["exit_code"] != 0:
        failures.append(f"exit code {report['exit_code']} after SIGTERM")
    return failures
