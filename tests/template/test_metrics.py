"""The metrics port: its series, labels no client can multiply, and an answer while work is in flight."""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support.server import ServerProcess

SERIES = (
    "remove_bg_requests_total",
    "remove_bg_errors_total",
    "remove_bg_request_seconds_bucket",
    "remove_bg_inflight",
    "remove_bg_max_inflight",
    "remove_bg_ready",
    "process_resident_memory_bytes",
    "process_cpu_seconds_total",
)


def _labels(metrics: str, name: str, label: str) -> set[str]:
    return set(re.findall(rf'^{name}{{[^}}]*{label}="([^"]*)"', metrics, re.MULTILINE))


def test_the_series_are_there_and_the_public_port_does_not_serve_them(start_echo) -> None:
    server: ServerProcess = start_echo(MAX_INFLIGHT="2").wait_ready()
    server.post(b"abc")
    server.post(b"")  # the function's own 400: an error, by its code
    metrics = server.metrics()
    for name in SERIES:
        assert re.search(rf"^{name}[ {{]", metrics, re.MULTILINE), name
    assert "remove_bg_max_inflight 2.0" in metrics
    assert "remove_bg_ready 1.0" in metrics
    assert requests.get(server.url + "/metrics", timeout=2).status_code == 405  # only POST routes there


def test_no_client_can_add_series(start_echo) -> None:
    server: ServerProcess = start_echo().wait_ready()
    for _ in range(20):
        server.post(b"x", path=f"/{uuid.uuid4().hex}")
    for method in ("PUT", "BREW", "DELETE"):
        requests.request(method, server.url + f"/{uuid.uuid4().hex}", timeout=5)
    server.post(b"", path="/")  # the function's own 400
    metrics = server.metrics()
    assert _labels(metrics, "remove_bg_requests_total", "route") <= {"/", "other"}
    assert _labels(metrics, "remove_bg_requests_total", "status") == {"200", "400"}
    assert _labels(metrics, "remove_bg_errors_total", "code") == {"empty_body"}


def test_the_endpoint_answers_while_a_request_is_in_work(start_echo) -> None:
    server: ServerProcess = start_echo(ECHO_SECONDS="3").wait_ready()
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(server.post, b"slow")
        server.wait_in_flight()
        started = time.monotonic()
        metrics = server.metrics()
        assert time.monotonic() - started < 1.0
        assert "remove_bg_inflight 1.0" in metrics
        in_flight.result()
    assert "remove_bg_inflight 0.0" in server.metrics()


def test_ready_is_0_while_starting(start_echo) -> None:
    server: ServerProcess = start_echo(ECHO_START_SECONDS="3")
    deadline = time.monotonic() + 30
    while True:  # the metrics port opens before start() returns; until then, connection refused
        assert time.monotonic() < deadline, "the metrics port never answered while starting"
        try:
            starting = server.metrics()
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    assert "remove_bg_ready 0.0" in starting
    server.wait_ready()
    assert "remove_bg_ready 1.0" in server.metrics()
