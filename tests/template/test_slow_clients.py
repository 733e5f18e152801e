"""Clients too slow to be served, or not meant to be: none of them holds what the others need.

A client without the token is answered from its headers, before any of its body is buffered; a
body arriving slower than MIN_UPLOAD_BYTES_PER_SECOND is cut; a client that never reads its answer
holds neither a thread nor, past SEND_TIMEOUT_SECONDS or MAX_UNSENT_BYTES, its answer's memory.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from harness.load import PROBE_BUDGET_S
from tests.support import images, raw
from tests.support.openapi import assert_documented
from tests.support.server import ServerProcess

TOKEN = "s3cret-token"
MB = 1_000_000


def _connect(server: ServerProcess, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket()
    if receive_buffer is not None:  # before connecting, so the window the server sees is small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", server.port))
    return sock


def _head(length: int, *headers: str, path: str = "/") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: x", f"Content-Length: {length}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _answer(sock: socket.socket) -> raw.Answer:
    chunks = []
    with suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return raw.parse(b"".join(chunks))


@contextmanager
def _trickling(socks: list[socket.socket], every: float) -> Iterator[None]:
    """Each socket sends a byte every `every` seconds, in the background, until the block ends."""
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(every):
            for sock in socks:
                with suppress(OSError):  # answered and closed: that is the point
                    sock.send(b"x")

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_clients_without_the_token_hold_no_upload_buffer(start_echo, tmp_path: Path) -> None:
    """Before: five connections without a token, declaring 30 MB and sending a byte a second, took
    the whole body buffer (4 x 30 MB) and every authorised upload got 429 busy."""
    token_file = tmp_path / "remove-bg-token"
    token_file.write_text(TOKEN)
    server = start_echo(TOKEN_FILE=str(token_file)).wait_ready()
    with ExitStack() as stack:
        strangers = [stack.enter_context(_connect(server)) for _ in range(5)]
        for sock in strangers:
            sock.sendall(_head(30 * MB, "Sec-Fetch-Mode: cors") + b"x")
        with _trickling(strangers, every=1.0):
            time.sleep(0.5)
            statuses = [
                server.post(b"x" * MB, headers={"Authorization": f"Bearer {TOKEN}"}).status_code for _ in range(10)
            ]
            assert statuses == [200] * 10, statuses
            answers = [_answer(sock) for sock in strangers]
    for answer in answers:
        assert answer.status == 401, answer
        assert answer.headers["www-authenticate"] == 'Bearer realm="remove-bg"'
        assert answer.headers["connection"] == "close"
        assert b'"code": "unauthorized"' in answer.body
    assert 'remove_bg_errors_total{code="unauthorized"} 5.0' in server.metrics()


def test_a_post_without_a_body_is_asked_for_the_token_too(start_echo, tmp_path: Path) -> None:
    token_file = tmp_path / "remove-bg-token"
    token_file.write_text(TOKEN)
    server = start_echo(TOKEN_FILE=str(token_file)).wait_ready()
    answer = raw.parse(raw.exchange(server.port, raw.request(b"", "Content-Length: 0")))
    assert answer.status == 401
    assert requests.post(server.url + "/_/health", timeout=5).status_code == 405, "the platform's paths need none"


def test_a_refused_request_s_body_is_never_read_as_a_request(start_echo, tmp_path: Path) -> None:
    """Its bytes come after a 401: were they parsed, a request hidden in them would take the buffer."""
    token_file = tmp_path / "remove-bg-token"
    token_file.write_text(TOKEN)
    server = start_echo(TOKEN_FILE=str(token_file), MAX_BODY_BYTES=str(MB), MAX_BUFFERED_BYTES=str(MB)).wait_ready()
    with _connect(server) as sock:
        sock.sendall(_head(MB) + _head(MB, f"Authorization: Bearer {TOKEN}"))
        time.sleep(0.3)
        assert server.post(b"x" * 1000, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert _answer(sock).status == 401


def test_an_upload_slower_than_the_minimum_rate_is_cut_and_its_share_freed(start_server) -> None:
    server: ServerProcess = start_server(
        REMBG_MODEL="u2netp",
        MAX_BODY_BYTES=str(MB),
        MAX_BUFFERED_BYTES=str(MB),
        MIN_UPLOAD_BYTES_PER_SECOND="10000",
        UPLOAD_GRACE_SECONDS="1",
    ).wait_ready()
    photo = images.jpeg()
    with _connect(server) as slow:
        slow.sendall(_head(MB, path="/api/v2/remove-background") + b"x" * 1000)
        started = time.monotonic()
        with _trickling([slow], every=0.1):
            time.sleep(0.3)
            assert server.post(photo).status_code == 429, "the trickle holds the whole buffer"
            answer = _answer(slow)
        elapsed = time.monotonic() - started
    assert answer.status == 408, answer
    assert b"MIN_UPLOAD_BYTES_PER_SECOND" in answer.body
    assert_documented("/api/v2/remove-background", "post", 408, answer.headers, answer.body)  # Pixian's shape
    assert 0.9 < elapsed < 3.0, elapsed
    assert server.post(photo).status_code == 200, "its share of the buffer is free again"
    # A client at a pace above the floor is served, however long the grace is past.
    with _connect(server) as steady:
        body = photo
        steady.sendall(_head(len(body), "Connection: close"))
        for start in range(0, len(body), 4000):
            steady.sendall(body[start : start + 4000])
            time.sleep(0.05)  # ~80 KB/s against a floor of 10 KB/s, for about 2 s
        assert _answer(steady).status == 200


@cache
def _twelve_megapixels() -> bytes:
    """A 12 MP photo with grain, whose cut-out is a ~20 MB PNG: over waitress's 16 MB watermark."""
    big = np.asarray(images.photo().resize((4000, 3000))).astype(np.int16)
    grain = np.random.default_rng(0).integers(-40, 40, big.shape)
    return images.jpeg(Image.fromarray((big + grain).clip(0, 255).astype(np.uint8)))


def _post_and_never_read(server: ServerProcess) -> socket.socket:
    """A photo and a request after it on one connection, and nothing read: before, the thread that wrote
    the photo's answer waited for this client to read it before taking the next request."""
    sock = _connect(server, receive_buffer=4096)
    photo = _twelve_megapixels()
    sock.sendall(_head(len(photo)) + photo + b"GET /_/health HTTP/1.1\r\nHost: x\r\n\r\n")
    return sock


def _probe(server: ServerProcess, path: str) -> tuple[float, int | None]:
    """How long the probe took and what it answered (None: no answer within 5 s)."""
    started = time.perf_counter()
    try:
        status = requests.get(server.url + path, timeout=5).status_code
    except requests.Timeout:
        return float("inf"), None
    return time.perf_counter() - started, status


def _until_answered(server: ServerProcess) -> float:
    """Probe until the photo in work is done (readiness is 429 while it is, then 200); the slowest probe."""
    worst, seen_busy, deadline = 0.0, False, time.monotonic() + 30
    while time.monotonic() < deadline and worst <= PROBE_BUDGET_S:
        health, _ = _probe(server, "/_/health")
        ready, status = _probe(server, "/_/ready")
        worst = max(worst, health, ready)
        if seen_busy and status == 200:
            break
        seen_busy = seen_busy or status == 429
        time.sleep(0.05)
    return worst


@pytest.mark.slow
def test_clients_that_never_read_their_answers_hold_no_thread(start_server) -> None:
    """Six such clients against five threads (one slot and four spare): before, the probes timed out."""
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", SEND_TIMEOUT_SECONDS="120").wait_ready()
    with ExitStack() as stack:
        worst = 0.0
        for _ in range(6):
            stack.enter_context(_post_and_never_read(server))
            worst = max(worst, _until_answered(server))
            assert worst < PROBE_BUDGET_S, f"a probe took {worst:.2f} s"
        worst = max(worst, _probe(server, "/_/health")[0], _probe(server, "/_/ready")[0])
        print(f"slowest probe beside 6 clients not reading 20 MB answers: {worst * 1000:.0f} ms")
        assert worst < PROBE_BUDGET_S
        assert server.post(images.jpeg()).status_code == 200


@pytest.mark.slow
def test_answers_left_unread_are_dropped_after_the_send_timeout_or_past_the_bound(start_server) -> None:
    server: ServerProcess = start_server(
        REMBG_MODEL="u2netp", SEND_TIMEOUT_SECONDS="4", MAX_UNSENT_BYTES=str(30 * MB)
    ).wait_ready()
    with ExitStack() as stack:
        for _ in range(2):  # two ~20 MB answers left unread: over 30 MB, the older is dropped
            stack.enter_context(_post_and_never_read(server))
            _until_answered(server)
        time.sleep(1.5)
        assert server.log().count("(MAX_UNSENT_BYTES)") == 1
        time.sleep(4)
        assert server.log().count("(SEND_TIMEOUT_SECONDS)") == 1
    assert server.post(images.jpeg()).status_code == 200
