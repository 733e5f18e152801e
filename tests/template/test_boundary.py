"""The template serves any function of the same shape: here a second, tiny one (tests/support/echo).

Health, the in-flight limit, draining, start-up failures and every error body come from the
template alone; nothing here loads a model or decodes an image.
"""

from __future__ import annotations

import ast
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import errors
import function.errors
from harness.processes import ROOT
from tests.support.openapi import assert_documented


def _error(response: requests.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (status, code)
    assert error["message"]
    return error


# What the template takes from its function: the handler, the one rule for reading the environment that the
# function's settings share, and the one JSON error body (modules any function of this shape carries: echo
# links remove-bg's).
SHARED = ("environment", "errors")


def _function_imports(path) -> list[str]:
    imported = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == "function"):
            imported += [f"from {'.' * node.level}{node.module or ''} import {alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            imported += [f"import {a.name}" for a in node.names if a.name.split(".")[0] == "function"]
    return imported


def test_the_template_imports_nothing_of_the_function_but_its_handler_and_the_shared_rules() -> None:
    imported = {line for path in (ROOT / "template").rglob("*.py") for line in _function_imports(path)}
    modules = {line.split()[1] for line in imported}
    assert modules == {"function", *(f"function.{name}" for name in SHARED)}, imported
    assert {line for line in imported if line.split()[1] == "function"} == {"from function import handler"}
    for name in SHARED:  # so that any function can carry them
        assert _function_imports(ROOT / "functions" / "remove-bg" / f"{name}.py") == [], name
        assert (ROOT / "tests" / "support" / "echo" / f"{name}.py").resolve() == (
            ROOT / "functions" / "remove-bg" / f"{name}.py"
        ).resolve(), f"echo carries remove-bg's {name}.py, not a copy"


def test_the_server_s_errors_are_written_by_the_function_s_one_error_body() -> None:
    assert errors.error_body is function.errors.error_body
    assert errors.any_path_error_body("/any", 404, "not_found", "no") == function.errors.error_body(
        404, "not_found", "no"
    )


def test_health_follows_the_function_s_ready_and_its_answers_pass_through(start_echo) -> None:
    server = start_echo(ECHO_START_SECONDS="2")
    deadline = time.monotonic() + 30
    while server.health() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.health() == 503
    for path in ("/_/health", "/_/ready"):  # the document's promise for every 503
        loading = requests.get(server.url + path, timeout=5)
        assert (loading.status_code, loading.text) == (503, "loading")
        assert_documented(path, "get", 503, dict(loading.headers), loading.content)
    alive = requests.get(server.url + "/_/live", timeout=5)  # a liveness probe must not restart a loading pod
    assert (alive.status_code, alive.text) == (200, "OK")
    assert_documented("/_/live", "get", 200, dict(alive.headers), alive.content)
    early = server.post(b"x")
    _error(early, 503, "unavailable")
    assert early.headers["Retry-After"] == "1"
    server.wait_ready()
    assert server.health("/_/ready") == 200
    response = server.post(b"12345", path="/any/path?size=small")
    assert response.status_code == 200
    assert response.json() == {"bytes": 5, "path": "/any/path", "query": {"size": "small"}}
    assert response.headers["X-Echo"] == "yes"


def test_before_ready_every_request_gets_the_template_s_one_503(start_echo) -> None:
    """Still loading: GET and POST get one answer, the template's, whatever the function would say (it has not
    read its settings yet). remove-bg's handle_get had its own copy; echo, without handle_get, answered a 405."""
    server = start_echo(ECHO_START_SECONDS="60")
    deadline = time.monotonic() + 30
    while server.health() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    get = requests.get(server.url + "/", timeout=5)
    post = server.post(b"x")
    for method, answer in (("get", get), ("post", post)):
        error = _error(answer, 503, "unavailable")
        assert error["message"] == "the function is still loading; retry"
        assert answer.headers["Retry-After"] == "1"
        assert_documented("/", method, 503, dict(answer.headers), answer.content)
    assert get.content == post.content
    assert server.health() == 503, "still loading when both were answered"


def test_at_the_limit_the_next_request_gets_429_and_probes_still_answer(start_echo) -> None:
    server = start_echo(ECHO_SECONDS="3", MAX_INFLIGHT="1").wait_ready()
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(server.post, b"first")
        server.wait_in_flight()
        second = server.post(b"second")
        _error(second, 429, "busy")
        assert second.headers["Retry-After"] == "1"
        assert requests.get(server.url + "/_/health", timeout=1).status_code == 200
        assert first.result().json()["bytes"] == 5
    assert server.health("/_/ready") == 200


def test_sigterm_drains_then_stops_the_function(start_echo) -> None:
    server = start_echo(ECHO_SECONDS="3").wait_ready()
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(server.post, b"in flight")
        server.wait_in_flight()
        server.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while server.health() != 503 and time.monotonic() < deadline:
            time.sleep(0.005)
        _error(server.post(b"late"), 503, "unavailable")
        assert requests.get(server.url + "/_/live", timeout=2).status_code == 200, "a draining pod is not dead"
        assert in_flight.result().json()["bytes"] == 9
    assert server.wait_exit(30) == 0
    log = server.log()
    assert log.index("draining") < log.index("echo stopped")


def test_error_bodies_come_from_the_template_and_the_function_s_own_pass_through(start_echo) -> None:
    server = start_echo(MAX_BODY_BYTES="2048").wait_ready()
    _error(server.post(b"x", path="/_/anything"), 404, "not_found")
    wrong_method = requests.get(server.url + "/", timeout=10)
    _error(wrong_method, 405, "method_not_allowed")
    assert "POST" in wrong_method.headers["Allow"]
    assert "2048" in _error(server.post(b"x" * 4096), 413, "body_too_large")["message"]
    assert _error(server.post(b""), 400, "empty_body")["message"] == "send something"
    crash = server.post(b"x", path="/boom")
    assert _error(crash, 500, "internal")["message"] == "internal error"
    assert "ZeroDivisionError" in server.log()
    assert server.post(b"still here").json()["bytes"] == 10


@pytest.mark.parametrize(
    ("env", "code", "message"),
    [
        ({"ECHO_SECONDS": "soon"}, 2, "configuration error: ECHO_SECONDS='soon'"),
        ({"PORT": "0"}, 2, "configuration error: PORT='0'"),
        ({"HOST": "no.such.host.invalid"}, 2, "configuration error: HOST='no.such.host.invalid'"),
        ({"HOST": "192.0.2.1"}, 2, "configuration error: HOST='192.0.2.1'"),  # not this machine's: cannot bind
        ({"ECHO_NEEDS": "/nonexistent/model.onnx"}, 1, "cannot start: /nonexistent/model.onnx is missing"),
    ],
)
def test_start_up_failures_exit_with_their_code(start_echo, env: dict[str, str], code: int, message: str) -> None:
    server = start_echo(**env)
    assert server.wait_exit(30) == code
    assert message in server.log()
    assert "Traceback" not in server.log()
