"""Every answer the server gives before the function sees the request, held to openapi.yaml.

The fuzz drives what a schema can describe; these are the rest: an oversize Content-Length, a
malformed request, headers too large, too many uploads at once, a request past the in-flight
limit, a probe at the limit and while draining, and a wrong method on a probe (a probe while
loading: tests/template/test_boundary.py).
Each must carry what the document promises every response (X-Call-Id; Retry-After on every 429
and 503) in the shape of its path.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from PIL import Image

from function.request import routes
from tests.support import images, raw
from tests.support.openapi import assert_answer_is, assert_documented
from tests.support.server import ServerProcess

MAX_BODY = 2_000_000
PIXIAN, REMOVEBG = routes.PIXIAN_PATH, routes.REMOVEBG_PATH
PROBES = ("/_/health", "/_/ready")
# A picture that keeps u2netp busy for seconds (a 24 MP decode, mask and PNG) in a body under MAX_BODY.
BIG_SIZE = (5000, 4800)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One slot; bodies of up to 2 MB, one arriving at a time."""
    env = {
        "REMBG_MODEL": "u2netp",
        "MAX_INFLIGHT": "1",
        "MAX_BODY_BYTES": str(MAX_BODY),
        "MAX_BUFFERED_BYTES": str(MAX_BODY),
    }
    started = ServerProcess(tmp_path_factory.mktemp("answers") / "server.log", env).wait_ready()
    yield started
    started.stop()


def _documented(path: str, method: str, payload: bytes, port: int) -> raw.Answer:
    answer = raw.parse(raw.exchange(port, payload))
    assert_documented(path, method, answer.status, answer.headers, answer.body)
    return answer


def _held(response: requests.Response, path: str, method: str) -> None:
    assert_documented(path, method, response.status_code, dict(response.headers), response.content)


@pytest.mark.parametrize("path", ["/", PIXIAN, REMOVEBG])
def test_an_oversize_content_length(server: ServerProcess, path: str) -> None:
    payload = raw.request(b"", f"Content-Length: {MAX_BODY + 1}", path=path)
    assert _documented(path, "post", payload, server.port).status == 413


@pytest.mark.parametrize("path", PROBES)
def test_an_oversize_content_length_on_a_probe(server: ServerProcess, path: str) -> None:
    payload = raw.request(b"", f"Content-Length: {MAX_BODY + 1}", path=path, method="GET")
    assert _documented(path, "get", payload, server.port).status == 413


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        ("/remove-background", ("Transfer-Encoding: chunked",), b"zz\r\nnot hex\r\n"),
        (PIXIAN, ("Content-Length: 12abc",), b"x"),
        (REMOVEBG, ("Transfer-Encoding: gzip",), b"x"),
    ],
)
def test_a_malformed_request(server: ServerProcess, path: str, headers: tuple[str, ...], body: bytes) -> None:
    assert _documented(path, "post", raw.request(body, *headers, path=path), server.port).status == 400


def test_a_request_line_of_garbage_gets_the_servers_own_refusal(server: ServerProcess) -> None:
    """A method waitress cannot read: refused before any route, in the server's own shape (ServerRefusal,
    our route's), with its call id."""
    answer = raw.parse(raw.exchange(server.port, b"\x00\x01\x02 / HTTP/1.1\r\n\r\n"))
    assert answer.status == 400
    assert_answer_is({"$ref": "#/components/responses/ServerRefusal"}, answer.headers, answer.body, "garbage")


@pytest.mark.parametrize(("path", "method"), [("/", "post"), (PIXIAN, "post"), ("/_/ready", "get")])
def test_headers_too_large(server: ServerProcess, path: str, method: str) -> None:
    payload = raw.request(b"", "Content-Length: 0", "X-Long: " + "b" * 300_000, path=path, method=method.upper())
    assert _documented(path, method, payload, server.port).status == 431


@pytest.mark.parametrize(("path", "method"), [("/", "post"), (PIXIAN, "post"), (REMOVEBG, "post"), ("/_/ready", "get")])
def test_too_many_uploads_at_once(server: ServerProcess, path: str, method: str) -> None:
    """One body of the whole MAX_BUFFERED_BYTES on its way: the next is refused before it is sent (a probe
    that brings a body too)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as holder:
        holder.sendall(raw.request(b"x" * 1000, f"Content-Length: {MAX_BODY}"))
        time.sleep(0.3)  # its headers are in: its share is taken
        payload = raw.request(b"", f"Content-Length: {MAX_BODY}", path=path, method=method.upper())
        answer = _documented(path, method, payload, server.port)
    assert answer.status == 429 and answer.headers["retry-after"] == "1"


def test_past_the_limit_a_probe_at_the_limit_and_a_probe_while_draining(start_server) -> None:
    """The slot taken by a big picture: a second POST is a 429, readiness a 429; after SIGTERM, every probe
    and POST a 503, all with Retry-After, while the picture still finishes."""
    server = start_server(REMBG_MODEL="u2netp", MAX_INFLIGHT="1").wait_ready()
    done: list[requests.Response] = []
    big = images.encode(Image.new("RGB", BIG_SIZE, (40, 90, 160)), "PNG")
    holder = threading.Thread(target=lambda: done.append(server.post(big)))
    holder.start()
    server.wait_in_flight()
    _held(server.post(images.jpeg(), path=PIXIAN), PIXIAN, "post")
    busy = server.post(images.jpeg())
    assert busy.status_code == 429
    _held(busy, "/", "post")
    at_limit = requests.get(server.url + "/_/ready", timeout=5)
    assert at_limit.status_code == 429
    _held(at_limit, "/_/ready", "get")
    server.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    while server.health() != 503:
        assert time.monotonic() < deadline, "never started draining"
        time.sleep(0.01)
    for path in PROBES:
        draining = requests.get(server.url + path, timeout=5)
        assert draining.status_code == 503 and draining.text == "draining"
        _held(draining, path, "get")
    late = server.post(images.jpeg(), path=REMOVEBG)
    assert late.status_code == 503
    _held(late, REMOVEBG, "post")
    holder.join(120)
    assert done[0].status_code == 200, done[0].text
    assert server.wait_exit(60) == 0


@pytest.mark.parametrize("path", PROBES)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_a_wrong_method_on_a_probe(server: ServerProcess, path: str, method: str) -> None:
    """Described in the document as a 405 with Allow: GET, HEAD (it once said POST there was a 404)."""
    answer = requests.request(method, server.url + path, data=b"x", timeout=10)
    assert answer.status_code == 405 and answer.headers["Allow"] == "GET, HEAD"
    assert_answer_is(
        {"$ref": "#/components/responses/MethodNotAllowed"}, dict(answer.headers), answer.content, f"{method} {path}"
    )
