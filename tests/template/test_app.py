"""The Flask app in-process: what a failure nobody anticipated looks like to the client."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from metrics import Routes

from function import handler as remove_bg
from index import create_app
from lifecycle import Lifecycle
from tests.support.echo import handler


def test_an_unexpected_error_is_a_bare_500_and_the_traceback_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    lifecycle = Lifecycle(max_inflight=1, function_ready=lambda: True)
    client = create_app(handler.new(), lifecycle, Routes(("/",))).test_client()
    with caplog.at_level(logging.ERROR):
        response = client.post("/boom", data=b"\xff\xd8\xff")
    assert response.status_code == 500
    assert response.content_type == "application/json"
    assert response.get_json() == {"error": {"status": 500, "code": "internal", "message": "internal error"}}
    assert "a bug" not in response.get_data(as_text=True)
    assert "ZeroDivisionError: a bug" in caplog.text
    assert "Traceback" in caplog.text
    assert lifecycle.readiness() == (200, "OK"), "the in-flight slot is given back after a failure"


def test_before_ready_remove_bg_s_page_and_route_get_the_template_s_503() -> None:
    """A function with handle_get (remove-bg's try-it page) before start(): the template answers, not the function."""
    loading = Lifecycle(max_inflight=1, function_ready=lambda: False)
    client = create_app(remove_bg.new(), loading, Routes(("/",))).test_client()
    get, post = client.get("/"), client.post("/", data=b"x")
    assert (
        (get.status_code, get.headers["Retry-After"]) == (post.status_code, post.headers["Retry-After"]) == (503, "1")
    )
    assert get.get_data() == post.get_data()
    assert get.get_json()["error"]["message"] == "the function is still loading; retry"


def test_lifecycle_states() -> None:
    started = False
    lifecycle = Lifecycle(max_inflight=1, function_ready=lambda: started)
    assert lifecycle.health() == (503, "loading")
    started = True
    assert lifecycle.health() == (200, "OK")
    assert lifecycle.try_enter()
    assert not lifecycle.try_enter()
    assert lifecycle.readiness() == (429, "at the in-flight limit")
    assert lifecycle.health() == (200, "OK")
    assert not lifecycle.wait_idle(0.01)
    lifecycle.leave()
    assert lifecycle.wait_idle(0.01)
    assert lifecycle.start_draining()
    assert not lifecycle.start_draining()
    assert lifecycle.health() == (503, "draining")


PROBE_ALLOW = """
from metrics import Routes
from index import create_app
from lifecycle import Lifecycle
from tests.support.echo import handler
app = create_app(handler.new(), Lifecycle(max_inflight=1, function_ready=lambda: True), Routes(("/",)))
client = app.test_client()
print(client.post("/_/health").headers["Allow"])
"""


@pytest.mark.parametrize("seed", ["0", "1", "2", "3", "4", "5"])
def test_a_405s_allow_is_in_one_order_whatever_the_hash_seed(seed: str) -> None:
    """Werkzeug gathers a 405's methods in a set, so their order followed the process' hash seed:
    CI met "HEAD, GET" where the test machine had always seen "GET, HEAD"."""
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run(
        [sys.executable, "-c", PROBE_ALLOW], check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "GET, HEAD"
