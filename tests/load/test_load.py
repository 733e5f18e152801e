"""Overload and a drain under load, over real HTTP on loopback (`make test-load`), for both tiers.

Nothing here is timed for speed: the numbers are printed, and what is asserted is correctness
and bounds (every answer right, the probe within 1 s, memory within the pod's budget).
"""

from __future__ import annotations

import json
import signal
import threading
import time

import pytest
from PIL import Image

from harness import models
from harness.load import PROBE_BUDGET_S, MemorySampler, Prober, Shot, closed_loop, summary
from harness.memory import BUDGET_BYTES
from tests.support import images
from tests.support.server import ServerProcess

pytestmark = pytest.mark.load

REQUEST_TIMEOUT_S = 60.0


def photo_shots() -> list[Shot]:
    sizes = {"astronaut": (512, 512), "chelsea": (1280, 960), "coffee": (2000, 1500)}
    return [
        Shot(f"{name} {size[0]}x{size[1]}", images.jpeg(images.photo(name).resize(size)), size)
        for name, size in sizes.items()
    ]


@pytest.fixture(params=[models.FAST, models.QUALITY])
def tier(request: pytest.FixtureRequest) -> dict[str, str]:
    """The fast tier (u2net) and the quality tier (ISNet with u2netp's core), one after the other."""
    return models.settings(request.param)


def test_eight_clients_against_one_slot_for_a_minute(start_server, tier: dict[str, str]) -> None:
    server: ServerProcess = start_server(MAX_INFLIGHT="1", LOG_LEVEL="WARNING", **tier).wait_ready()
    prober, sampler = Prober(server.url), MemorySampler(server.proc.pid)
    prober.start()
    sampler.start()
    outcomes = closed_loop(server.url + "/", photo_shots(), clients=8, seconds=60, timeout=REQUEST_TIMEOUT_S)
    probes, memory = prober.stop(), sampler.stop()
    report = summary(outcomes)
    slowest_probe = max(seconds for seconds, _ in probes)
    print("\n8 clients, MAX_INFLIGHT=1, 60 s:", json.dumps(report), f"slowest probe {slowest_probe * 1000:.0f} ms")
    assert set(report["statuses"]) <= {"200", "429"}, report["statuses"]
    assert report["incorrect"] == 0
    assert report["served"] > 0 and report["statuses"].get("429", 0) > 0, "overloaded, not idle"
    assert all(outcome.seconds < REQUEST_TIMEOUT_S for outcome in outcomes)
    assert all(status == 200 for _, status in probes)
    assert slowest_probe < PROBE_BUDGET_S
    assert max(rss for _, rss in memory) <= BUDGET_BYTES
    assert server.proc.poll() is None


def test_sigterm_under_load_finishes_what_was_accepted_and_exits_0(start_server, tier: dict[str, str]) -> None:
    server: ServerProcess = start_server(MAX_INFLIGHT="1", LOG_LEVEL="INFO", DRAIN_SECONDS="30", **tier).wait_ready()
    big = Shot(
        "coffee 4000x3000",
        images.jpeg(images.photo("coffee").resize((4000, 3000), Image.Resampling.BILINEAR)),
        (4000, 3000),
    )
    stop = threading.Event()
    result: list = []
    load = threading.Thread(
        target=lambda: result.extend(
            closed_loop(
                server.url + "/", [big, *photo_shots()], clients=8, seconds=40, timeout=REQUEST_TIMEOUT_S, stop=stop
            )
        )
    )
    load.start()
    time.sleep(5)
    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    exit_code = server.wait_exit(60)
    exited = time.monotonic()
    stop.set()
    load.join(REQUEST_TIMEOUT_S + 10)
    before = [o for o in result if o.started < signalled]
    during = [o for o in result if signalled <= o.started < exited]
    print("\nbefore SIGTERM:", json.dumps(summary(before)), "\nwhile draining:", json.dumps(summary(during)))
    assert exit_code == 0, server.log()
    # every request sent before the signal was answered, correctly (a 503 if it reached the server
    # after the signal did): none lost, and the one in work finished
    assert all(o.status in (200, 429, 503) and o.correct for o in before), summary(before)
    assert any(o.status == 200 and o.started + o.seconds > signalled for o in before), "one was in work at SIGTERM"
    # while draining: a 503 (or, once it has exited, no connection); never a 200 for new work, never a 5xx else
    assert {o.status for o in during} <= {503, None}
    assert any(o.status == 503 for o in during)
    assert "draining" in server.log()
