"""Start-up, health, the in-flight limit and draining, each on a server process of its own."""

from __future__ import annotations

import contextlib
import hashlib
import re
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.support import images
from tests.support.server import MODEL_HOME, ServerProcess

# Big enough that one request is in work for a while even with u2netp.
SLOW_SIZE = (6000, 4000)


@pytest.fixture(scope="module")
def slow_body() -> bytes:
    return images.jpeg(images.photo("astronaut").resize(SLOW_SIZE, Image.Resampling.BILINEAR))


@pytest.mark.other_models
def test_health_is_503_until_the_model_is_loaded(start_server) -> None:
    server: ServerProcess = start_server(REMBG_MODEL="u2net")
    deadline = time.monotonic() + 60
    while server.health() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    # The server listens before it loads the model (about a second for u2net): probes and work
    # are both told to come back later.
    assert server.health("/_/health") == 503
    assert server.health("/_/ready") == 503
    early = server.post(images.jpeg())
    assert early.status_code == 503
    assert early.json()["error"]["code"] == "unavailable"
    assert early.headers["Retry-After"] == "1"
    server.wait_ready()
    assert server.health("/_/ready") == 200
    assert server.post(images.jpeg()).status_code == 200
    assert "model u2net loaded" in server.log()


def test_at_the_inflight_limit_another_request_gets_429(start_server, slow_body: bytes) -> None:
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", MAX_INFLIGHT="1").wait_ready()
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(server.post, slow_body)
        server.wait_in_flight()
        started = time.monotonic()
        second = server.post(images.jpeg())
        assert time.monotonic() - started < 5, "the 429 must come at once, not after the first image"
        assert second.status_code == 429
        assert second.json()["error"]["code"] == "busy"
        assert second.headers["Retry-After"] == "1"
        # Probes still answer within OpenFaaS' 1 s probe timeout while the image is in work.
        assert requests.get(server.url + "/_/health", timeout=1).status_code == 200
        assert requests.get(server.url + "/_/ready", timeout=1).status_code == 429
        # And so does the metrics port, which shows the image in work.
        metrics = requests.get(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=1).text
        assert "remove_bg_inflight 1.0" in metrics
        assert first.result().status_code == 200
    assert server.health("/_/ready") == 200
    assert server.post(images.jpeg()).status_code == 200


def test_two_slots_take_two_images_at_once(start_server, slow_body: bytes) -> None:
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", MAX_INFLIGHT="2").wait_ready()
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(server.post, slow_body)
        second = pool.submit(server.post, slow_body)
        server.wait_in_flight()
        assert server.post(images.jpeg()).status_code == 429
        assert first.result().status_code == 200
        assert second.result().status_code == 200


def test_sigterm_drains_the_request_in_flight(start_server, slow_body: bytes) -> None:
    server: ServerProcess = start_server(REMBG_MODEL="u2netp").wait_ready()
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(server.post, slow_body)
        server.wait_in_flight()
        server.proc.send_signal(signal.SIGTERM)
        # While draining: health says 503 (within the probe timeout) and new work is turned away.
        deadline = time.monotonic() + 5
        while server.health() != 503 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert requests.get(server.url + "/_/health", timeout=1).status_code == 503
        refused = server.post(images.jpeg())
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "unavailable"
        response = in_flight.result()
    assert response.status_code == 200
    assert images.decode_png(response.content).size == SLOW_SIZE
    assert server.wait_exit(60) == 0
    assert "draining" in server.log()


def test_sigterm_when_idle_exits_at_once(start_server) -> None:
    server: ServerProcess = start_server(REMBG_MODEL="u2netp").wait_ready()
    server.proc.send_signal(signal.SIGTERM)
    assert server.wait_exit(10) == 0


def test_drain_gives_up_after_the_grace_period(start_server, slow_body: bytes) -> None:
    """With no grace, the request in work is given up: the server exits 0 while it is still in work, or while
    its answer is on its way (the flush is bounded too). The client sees its connection closed before the
    answer or in the middle of its body (on a busy machine, most often the body), or the whole answer if it
    was written in time; nothing else."""
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", DRAIN_SECONDS="0").wait_ready()
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(_post_or_cut, server, slow_body)
        server.wait_in_flight()
        server.proc.send_signal(signal.SIGTERM)
        assert server.wait_exit(30) == 0
        got = in_flight.result()
    assert "drain period over" in server.log()
    assert isinstance(got, CUT) or got.status_code == 200, got


# How a client sees a connection the server closed: before the answer's head, or within its body.
CUT = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


def _post_or_cut(server: ServerProcess, body: bytes) -> requests.Response | requests.RequestException:
    try:
        return server.post(body)
    except CUT as exc:
        return exc


def test_missing_model_fails_fast_with_instructions(start_server, tmp_path: Path) -> None:
    empty = tmp_path / "no-models"
    empty.mkdir()
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", U2NET_HOME=str(empty))
    assert server.wait_exit(60) == 1
    log = server.log()
    assert "make image MODEL=u2netp" in log and "prepare" not in log
    assert str(empty) in log
    assert not any(empty.rglob("*.onnx")), "nothing may be downloaded at start-up"


@pytest.mark.parametrize("damage", ["truncated", "not onnx", "empty"])
def test_a_damaged_model_fails_fast_with_a_message_and_serves_no_5xx(start_server, tmp_path: Path, damage: str) -> None:
    home = tmp_path / "models" / "models" / "u2netp"
    home.mkdir(parents=True)
    good = (MODEL_HOME / "models" / "u2netp" / "u2netp.onnx").read_bytes()
    content = {"truncated": good[: len(good) // 2], "not onnx": b"<html>404</html>" * 100, "empty": b""}[damage]
    (home / "u2netp.onnx").write_bytes(content)
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", U2NET_HOME=str(tmp_path / "models"))
    statuses = set()
    while server.proc.poll() is None:
        with contextlib.suppress(requests.ConnectionError):
            statuses.add(requests.post(server.url + "/", data=b"x", timeout=5).status_code)
        time.sleep(0.02)
    assert server.wait_exit(60) == 1
    assert statuses <= {503}, "while it lives it says unavailable, never a 500"
    log = server.log()
    rembgs = hashlib.md5(good, usedforsecurity=False).hexdigest()
    assert f"is not the expected {rembgs}" in log, "u2netp's own file is held to its record's md5, rembg's file's"
    assert "make image MODEL=u2netp" in log and "prepare" not in log
    assert "Traceback" not in log


def test_unknown_model_fails_fast(start_server) -> None:
    """A setting the function cannot serve: exit 2 naming the variable, as for every bad setting."""
    server: ServerProcess = start_server(REMBG_MODEL="no-such-model")
    assert server.wait_exit(60) == 2
    assert "configuration error: REMBG_MODEL='no-such-model' is not a model this function serves" in server.log()
    assert "u2net" in server.log()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_INFLIGHT", "many"),
        ("MAX_INFLIGHT", "0"),
        ("PORT", "70000"),
        ("DRAIN_SECONDS", "-1"),
        # the function's own, read by its start()
        ("MAX_PIXELS", "10"),
        ("ORT_THREADS", "0"),
        ("PNG_COMPRESS_LEVEL", "9"),
    ],
)
def test_bad_configuration_stops_start_up(start_server, name: str, value: str) -> None:
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", **{name: value})
    assert server.wait_exit(30) == 2
    assert f"{name}=" in server.log()
    assert "configuration error" in server.log()


def test_health_answers_while_many_requests_are_refused(start_server, slow_body: bytes) -> None:
    """A burst at the limit: every extra request gets its 429 and probes keep answering."""
    server: ServerProcess = start_server(REMBG_MODEL="u2netp").wait_ready()
    statuses: list[int] = []
    lock = threading.Lock()

    def extra() -> None:
        status = server.post(images.jpeg()).status_code
        with lock:
            statuses.append(status)

    with ThreadPoolExecutor(9) as pool:
        first = pool.submit(server.post, slow_body)
        server.wait_in_flight()
        extras = [pool.submit(extra) for _ in range(8)]
        assert requests.get(server.url + "/_/health", timeout=1).status_code == 200
        for future in extras:
            future.result()
        assert first.result().status_code == 200
    assert statuses.count(429) >= 1
    assert set(statuses) <= {200, 429}


def test_onnx_threads_follow_the_cpus_or_the_override(start_server) -> None:
    from function.process.cpu import usable_cpus

    default = start_server(REMBG_MODEL="u2netp").wait_ready()
    override = start_server(REMBG_MODEL="u2netp", ORT_THREADS="1").wait_ready()
    loaded = r"model u2netp loaded (from its optimised copy \S+ )?with {} ONNX Runtime threads"
    assert re.search(loaded.format(usable_cpus()), default.log())
    assert re.search(loaded.format(1), override.log())


def test_a_stalled_connection_is_closed_after_read_timeout(start_server) -> None:
    """OpenFaaS' read_timeout: a client that stops sending mid-request does not hold a connection."""
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", read_timeout="1s").wait_ready()
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n" + b"\xff" * 10)
        started = time.monotonic()
        assert sock.recv(1) == b"", "the server should close the stalled connection"
        assert time.monotonic() - started < 10
    assert server.post(images.jpeg()).status_code == 200
