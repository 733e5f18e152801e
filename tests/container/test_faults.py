"""Faults in the real container: killed mid-request, a damaged model, a full /tmp, the worst input at 2 GB."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from PIL import Image

from function.config import DEFAULT_MAX_INPUT_PIXELS
from harness.load import wait_in_work
from harness.memory import BUDGET_BYTES, CASES, largest_accepted, photo_shape
from tests.support import images
from tests.support.container import Container, baked, deployed_env, docker

pytestmark = pytest.mark.container


def _wait_exited(container: Container, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while (state := container.state())["Running"] or state["Restarting"]:
        assert time.monotonic() < deadline, container.logs()
        time.sleep(0.2)
    return state


def test_sigkill_mid_request_the_client_sees_an_error_and_the_restart_serves_again(container_factory) -> None:
    container: Container = container_factory(flags=("--restart", "on-failure:3"))
    container.wait_ready()
    body = images.jpeg(images.photo("astronaut").resize((5000, 4000), Image.Resampling.BILINEAR))
    with ThreadPoolExecutor(1) as pool:
        in_work = pool.submit(container.post, body)
        wait_in_work(container.url)
        # from the host, as the kernel's OOM killer or a node failure would: no handler runs
        os.kill(container.state()["Pid"], signal.SIGKILL)
        with pytest.raises(requests.ConnectionError):
            in_work.result()
    deadline = time.monotonic() + 60
    while int(docker("inspect", "--format", "{{.RestartCount}}", container.id)) < 1 or container.health() != 200:
        assert time.monotonic() < deadline, container.logs()
        time.sleep(0.05)
    response = container.post(images.jpeg())
    assert response.status_code == 200
    assert images.decode_png(response.content).size == (512, 512)


@pytest.mark.parametrize("damage", ["truncated", "not onnx"])
def test_a_damaged_model_in_the_image_exits_1_with_a_message(container_factory, tmp_path: Path, damage: str) -> None:
    main = baked().files[0]
    bad = tmp_path / Path(main).name
    bad.write_bytes(b"\x08\x07\x12\x04" * 1000 if damage == "truncated" else b"<html>not found</html>")
    bad.chmod(0o644)
    # without its md5 pin, so that the damage reaches ONNX Runtime (a pinned file is refused before)
    container: Container = container_factory({"REMBG_MODEL_MD5": ""}, flags=("-v", f"{bad}:{main}:ro"))
    statuses = set()
    while container.state()["Running"]:
        with contextlib.suppress(requests.ConnectionError):
            statuses.add(requests.post(container.url + "/", data=b"x", timeout=5).status_code)
        time.sleep(0.02)
    state = _wait_exited(container)
    assert state["ExitCode"] == 1
    assert statuses <= {503}, "never a 5xx but 'unavailable' while it lives"
    logs = container.logs()
    # what an operator of the image can do (model/load.py): no command that exists only in a checkout
    advice = "supply it again" if baked().path else f"build the image again (`make image MODEL={baked().model}`"
    assert "cannot be loaded" in logs and advice in logs
    assert "Traceback" not in logs


def test_the_rendered_manifest_without_its_secret_stops_instead_of_serving_open(container_factory, tmp_path) -> None:
    """A pod whose token secret is not mounted: TOKEN_FILE is named, so start-up stops with exit 2."""
    container: Container = container_factory(deployed_env(tmp_path))
    deadline = time.monotonic() + 60
    while container.state()["Running"]:
        assert time.monotonic() < deadline, container.logs()
        with contextlib.suppress(requests.ConnectionError):
            answer = container.post(images.jpeg())
            pytest.fail(f"answered {answer.status_code}: the pod served without its token")
        time.sleep(0.02)
    assert _wait_exited(container)["ExitCode"] == 2, container.logs()
    assert "TOKEN_FILE='/var/openfaas/secrets/remove-bg-token': no such file" in container.logs()


def test_a_full_tmp_breaks_nothing(container_factory) -> None:
    """Bodies and responses are held in memory under the server's limits: /tmp is never written."""
    container: Container = container_factory(flags=("--tmpfs", "/tmp:size=1m"))
    container.wait_ready()
    filled = subprocess.run(
        ["docker", "exec", container.id, "sh", "-c", "cat /dev/zero > /tmp/fill"], capture_output=True, check=False
    )
    assert filled.returncode != 0, "the fill should have run /tmp out of space"
    assert "No space left" in filled.stderr.decode()
    # past waitress's own in-memory buffers (512 KB of body, 1 MB of response), both ways
    body = images.encode(images.photo("coffee").resize((2400, 1600)), "PNG")
    assert len(body) > 1_000_000
    response = container.post(body)
    assert response.status_code == 200, response.text[:300]
    assert images.decode_png(response.content).size == (2400, 1600)


def test_the_worst_input_at_the_largest_accepted_size_fits_2_gb(container_factory, measurements: dict) -> None:
    """The case bench/memory.py measures highest, sent for real under --memory 2g."""
    container: Container = container_factory()
    container.wait_ready()
    # a photo first: what the process keeps between requests (an arena's high-water mark) is then there
    assert container.post(images.jpeg(images.photo("astronaut"))).status_code == 200
    worst = next(case for case in CASES if case.name == "WebP RGB lossless")
    size = photo_shape(largest_accepted(worst, DEFAULT_MAX_INPUT_PIXELS))
    response = container.post(worst.make(size))
    assert response.status_code == 200, response.text[:300]
    state = container.state()
    assert state["OOMKilled"] is False and state["Running"] is True
    measurements["worst_input"] = worst.name
    measurements["peak_rss_worst_input_mb"] = container.process_memory_mb()["VmHWM"]
    measurements["peak_cgroup_memory_worst_input_mb"] = round(container.cgroup_memory("peak") / 1e6)
    assert measurements["peak_rss_worst_input_mb"] * 1e6 <= BUDGET_BYTES
