"""The bounds the pod enforces, over real HTTP: the decode worker's memory and time, the whole request's deadline.

Each is set low on a server of its own, so an ordinary photo crosses it: the answer is the 4xx (or 503) in the
route's own shape naming the setting, the probes answer meanwhile, the next photo is served where the limit
allows one, and the breach is counted in the metrics.
"""

from __future__ import annotations

import re
import time

import pytest

from harness import models
from tests.support import images
from tests.support.bound import HealthProbe
from tests.support.checks import assert_cutout, assert_error
from tests.support.server import ServerProcess

GOOD = images.jpeg(images.photo("chelsea"))
PIXIAN = "/api/v2/remove-background"
REMOVEBG = "/v1.0/removebg"


def counted(server: ServerProcess, metric: str, label: str) -> float:
    found = re.search(rf"^{metric}\{{{label}\}} (\S+)$", server.metrics(), re.MULTILINE)
    return 0.0 if found is None else float(found.group(1))


@pytest.fixture
def quick(start_server) -> ServerProcess:
    return start_server(REMBG_MODEL="u2netp", DECODE_SECONDS="0.2").wait_ready()


def test_a_decode_past_decode_seconds_is_a_422_on_every_route_and_the_next_photo_is_served(quick) -> None:
    slow = images.slow_png()
    probe = HealthProbe(quick)
    probe.start()
    started = time.monotonic()
    response = quick.post(slow)
    took = time.monotonic() - started
    slowest_probe = probe.finish()
    assert_error(response, 422, "decode_timeout")
    assert "DECODE_SECONDS=0.2" in response.json()["error"]["message"]
    assert took < 3.0, took  # the worker's own timer ended it, not the parent's grace
    assert slowest_probe < 1.0
    pixian = quick.post(slow, PIXIAN)
    assert pixian.status_code == 422 and pixian.json()["error"]["code"] == 422
    removebg = quick.post(slow, REMOVEBG)
    assert removebg.status_code == 422 and removebg.json()["errors"][0]["code"] == "decode_timeout"
    assert counted(quick, "remove_bg_decode_breaches_total", 'limit="time"') == 3
    assert_cutout(quick.post(GOOD), (451, 300))


def test_a_decode_past_decode_memory_bytes_is_a_413_and_the_next_photo_is_served(start_server) -> None:
    server = start_server(REMBG_MODEL="u2netp", DECODE_MEMORY_BYTES="60000000").wait_ready()
    response = server.post(images.slow_png())
    assert_error(response, 413, "decode_memory")
    assert "DECODE_MEMORY_BYTES=60000000" in response.json()["error"]["message"]
    assert counted(server, "remove_bg_decode_breaches_total", 'limit="memory"') == 1
    assert_cutout(server.post(GOOD), (451, 300))
    assert server.proc.poll() is None


def test_the_decode_worker_s_peak_is_in_the_request_s_log_line_and_the_metrics(start_server) -> None:
    server = start_server(REMBG_MODEL="u2netp", LOG_FORMAT="json").wait_ready()
    call = "peak-of-a-photo"
    assert_cutout(server.post(GOOD, headers={"X-Call-Id": call}), (451, 300))
    line = next(line for line in server.log().splitlines() if call in line and "decode_peak_mb" in line)
    assert re.search(r'"decode_peak_mb": [1-9]', line), line
    assert "remove_bg_decode_peak_bytes_count 1.0" in server.metrics()
    # The zygote outlives the start-up thread that launched it (PR_SET_PDEATHSIG once killed it when that ended).
    assert "zygote had ended" not in server.log()


@pytest.mark.other_models
def test_a_model_run_past_request_seconds_is_ended_there_with_a_503(start_server) -> None:
    """ISNet's fp16 file takes over a second a run on 2 CPUs: ONNX Runtime's terminate flag ends it at the deadline."""
    server = start_server(**models.settings(models.QUALITY_FP32), REQUEST_SECONDS="0.4").wait_ready()
    probe = HealthProbe(server)
    probe.start()
    started = time.monotonic()
    response = server.post(images.jpeg(images.photo("chelsea").resize((320, 213))))
    took = time.monotonic() - started
    assert probe.finish() < 1.0
    assert_error(response, 503, "deadline_exceeded")
    assert response.headers["Retry-After"] == "1"
    assert "REQUEST_SECONDS=0.4" in response.json()["error"]["message"]
    assert "mask" in response.json()["error"]["message"]
    assert took < 1.0, f"{took:.2f} s: the model's run was not ended at the deadline"
    assert counted(server, "remove_bg_deadline_exceeded_total", 'stage="mask"') == 1
    assert "stopped at REQUEST_SECONDS=0.4 s in the mask stage" in server.log()
    assert server.health() == 200
