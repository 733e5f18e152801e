"""The image under the real 2-CPU / 2 GB profile: run by `make test-container`, after `make image`."""

from __future__ import annotations

import io
import json
import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests
from PIL import Image

from function.model.records import OPERATOR, record
from harness.load import wait_in_work
from tests.support import images
from tests.support.container import IMAGE, Container, baked, deployed_env, docker

pytestmark = pytest.mark.container


def test_cold_start_health_and_a_real_cutout(container_factory, measurements: dict) -> None:
    container: Container = container_factory()
    statuses = []
    while not statuses or statuses[-1] != 200:
        statuses.append(container.health())
        assert time.perf_counter() - container.started < 60, container.logs()
        time.sleep(0.01)
    answered = [status for status in statuses if status is not None]
    assert answered[0] == 503, "health must say 503 until the model is loaded"
    response = container.post(images.jpeg(images.photo("astronaut")))
    measurements["cold_start_s"] = round(time.perf_counter() - container.started, 3)
    assert response.status_code == 200
    cutout = Image.open(io.BytesIO(response.content))
    assert (cutout.format, cutout.mode, cutout.size) == ("PNG", "RGBA", (512, 512))
    alpha = np.asarray(cutout.getchannel("A"))
    assert (alpha == 0).any() and (alpha == 255).any()
    # cgroup v1 counts the page cache (the model file, the image's files) in its usage; RSS does not
    measurements["idle_cgroup_memory_mb"] = round(container.cgroup_memory("current") / 1e6)
    measurements["idle_rss_mb"] = container.process_memory_mb()["VmRSS"]


def test_runs_as_non_root_on_a_read_only_root(container_factory) -> None:
    container: Container = container_factory()
    container.wait_ready()
    assert docker("exec", container.id, "id", "-u") != "0"
    assert docker("inspect", "--format", "{{.Config.User}}", container.id) == "10001:10001"
    denied = subprocess.run(["docker", "exec", container.id, "touch", "/home/app/x"], capture_output=True, check=False)
    assert denied.returncode != 0, "the root filesystem must be read-only"
    assert docker("exec", container.id, "touch", "/tmp/x") == ""


def test_dockers_healthcheck_reports_healthy(container_factory) -> None:
    container: Container = container_factory()
    container.wait_ready()
    deadline = time.monotonic() + 30  # the HEALTHCHECK runs every 5 s
    while container.state()["Health"]["Status"] != "healthy":
        assert time.monotonic() < deadline, container.state()["Health"]
        time.sleep(0.5)


def test_onnx_uses_the_two_cpus_of_the_cgroup(container_factory) -> None:
    container: Container = container_factory()
    container.wait_ready()
    assert re.search(r"model \S+ loaded (from its optimised copy \S+ )?with 2 ONNX Runtime threads", container.logs())


def test_the_model_is_baked_in_and_nothing_is_downloaded(container_factory) -> None:
    container: Container = container_factory()
    container.wait_ready()
    assert "Downloading" not in container.logs()
    assert f"model {baked().label.split('+')[0]} loaded from its optimised copy" in container.logs()
    for path in baked().files:
        assert docker("exec", container.id, "ls", path) == path
    for pattern in baked().optimized:  # one copy, named for what it was made for, nothing half-made beside it
        listed = docker("exec", container.id, "sh", "-c", f"ls -a $(dirname {pattern})").split()
        copies = [name for name in listed if name not in (".", "..")]
        assert len(copies) == 1 and re.fullmatch(r".*\.[0-9a-f]{16}\.onnx", copies[0]), listed


def test_the_image_serves_its_model_as_the_record_says(container_factory) -> None:
    """One identity per model: the quality tier's local image (a stand-in file for isnet-general-use-int8's own)
    answers as production's does, X-Model and arena from the record, no ORT_MEMORY_ARENA in its environment."""
    environment = docker("image", "inspect", "--format", "{{json .Config.Env}}", IMAGE)
    assert "ORT_MEMORY_ARENA" not in environment, "the arena is the record's, not a setting baked in"
    container: Container = container_factory()
    container.wait_ready()
    response = container.post(images.jpeg())
    assert response.status_code == 200 and response.headers["X-Model"] == baked().label
    logs, own = container.logs(), record(baked().model)
    assert f"memory arena {'on' if own.arena else 'off'}" in logs
    if baked().path and own.source != OPERATOR:
        assert f"model {baked().model}: its own file's stand-in is {baked().path} (md5 " in logs
    if baked().model == "isnet-general-use-int8":
        assert baked().label == "isnet-general-use-int8+u2netp", "the quality tier as the stack files deploy it"


def test_the_image_carries_no_build_or_matting_code_and_the_fast_tier_s_is_small(measurements: dict) -> None:
    """rembg without what only its remove() imports, no build side (function.prepare, the quantizer's onnx and
    scikit-image), no pip (docs/deploy.md, Start-up and image)."""
    modules = ("pymatting", "numba", "llvmlite", "skimage", "scipy", "jsonschema", "onnx", "pip", "pytest")
    code = "import importlib.util as u; print([m for m in MODULES if u.find_spec(m)])".replace(
        "MODULES", repr((*modules, "function.prepare"))
    )
    assert docker("run", "--rm", "--network", "none", "--entrypoint", "python", IMAGE, "-c", code) == "[]"
    if baked().model == "u2net-int8":
        assert measurements["image_size_mb"] <= 650, "the fast tier's image"


def test_a_25_mp_image_is_served_within_the_memory_limit(container_factory, measurements: dict) -> None:
    container: Container = container_factory()
    container.wait_ready()
    body = images.jpeg(images.photo("coffee").resize((5773, 4330), Image.Resampling.BICUBIC))
    response = container.post(body)
    assert response.status_code == 200, response.text[:300]
    assert images.decode_png(response.content).size == (5773, 4330)
    assert container.state()["OOMKilled"] is False
    assert container.state()["Running"] is True
    measurements["peak_cgroup_memory_25mp_mb"] = round(container.cgroup_memory("peak") / 1e6)
    measurements["peak_rss_25mp_mb"] = container.process_memory_mb()["VmHWM"]


def test_bad_input_gets_json_and_the_container_keeps_serving(container_factory) -> None:
    container: Container = container_factory()
    container.wait_ready()
    response = container.post(b"definitely not an image")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_image"
    assert container.post(images.jpeg()[:600]).json()["error"]["code"] == "corrupt_image"
    assert container.post(images.jpeg()).status_code == 200


def test_every_output_format_and_both_compatible_routes_work_in_the_image(container_factory) -> None:
    """The image's own Pillow (libwebp, libjpeg) and the routes, on the read-only root."""
    container: Container = container_factory()
    container.wait_ready()
    photo = images.jpeg(images.photo("astronaut"))
    for query, kind in (("format=webp", "WEBP"), ("format=jpeg&crop=1", "JPEG"), ("only_mask=1", "PNG")):
        response = requests.post(f"{container.url}/?{query}", data=photo, timeout=120)
        assert response.status_code == 200, response.text[:300]
        assert Image.open(io.BytesIO(response.content)).format == kind
    files = {"image": ("photo.jpg", photo)}
    pixian = requests.post(container.url + "/api/v2/remove-background", files=files, timeout=120)
    assert pixian.status_code == 200 and pixian.headers["X-Credits-Charged"] == "0"
    files = {"image_file": ("photo.jpg", photo)}
    zipped = requests.post(container.url + "/v1.0/removebg", files=files, data={"format": "zip"}, timeout=120)
    assert zipped.status_code == 200 and zipped.headers["Content-Type"] == "application/zip"
    fetch = {"image_url": "http://example.com/a.jpg"}
    refused = requests.post(container.url + "/v1.0/removebg", data=fetch, timeout=10)
    assert refused.json()["errors"][0]["code"] == "unsupported_option"


def test_docker_stop_lets_the_request_in_flight_finish(container_factory) -> None:
    container: Container = container_factory()
    container.wait_ready()
    body = images.jpeg(images.photo("astronaut").resize((5000, 4000), Image.Resampling.BILINEAR))
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(container.post, body)
        wait_in_work(container.url)
        stopper = threading.Thread(target=docker, args=("stop", "--time", "30", container.id))
        stopper.start()
        response = in_flight.result()
        stopper.join()
    assert response.status_code == 200
    assert images.decode_png(response.content).size == (5000, 4000)
    state = container.state()
    assert state["ExitCode"] == 0, container.logs()
    assert "draining" in container.logs()


def test_metrics_json_logs_and_the_token_under_the_pod_profile(container_factory, tmp_path) -> None:
    """The environment `make manifests` renders (TOKEN_FILE named) with the secret's folder mounted read-only
    where OpenFaaS mounts secrets; metrics on their own port; JSON logs."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o755)
    (secrets / "remove-bg-token").write_text("container-token\n")
    (secrets / "remove-bg-token").chmod(0o644)
    env = deployed_env(tmp_path / "deploy")
    assert env["TOKEN_FILE"] == "/var/openfaas/secrets/remove-bg-token"
    container: Container = container_factory(env, flags=("-v", f"{secrets}:/var/openfaas/secrets:ro"))
    container.wait_ready()
    assert container.post(images.jpeg()).status_code == 401
    answer = container.post(images.jpeg(), headers={"Authorization": "Bearer container-token", "X-Call-Id": "c-1"})
    assert answer.status_code == 200
    metrics = requests.get(f"http://127.0.0.1:{container.metrics_port}/metrics", timeout=2).text
    assert 'remove_bg_requests_total{route="/",status="200"} 1.0' in metrics
    assert 'remove_bg_requests_total{route="/",status="401"} 1.0' in metrics
    assert "remove_bg_ready 1.0" in metrics
    assert "process_resident_memory_bytes" in metrics
    lines = [json.loads(line) for line in container.logs().splitlines() if line.startswith("{")]
    (line,) = [line for line in lines if line.get("call_id") == "c-1"]
    assert (line["status"], line["model"]) == (200, baked().label)
    assert "container-token" not in container.logs()
