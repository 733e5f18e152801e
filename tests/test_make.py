"""The Makefile's entry points behave as the README and docs/ say, run as a user runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from harness import isnet, models
from harness.processes import ROOT, free_port


def test_make_serve_honours_rembg_model_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "REMBG_MODEL": "u2netp", "PORT": str(port), "METRICS_PORT": str(free_port())}
    env.pop("MODEL", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and make.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{port}/_/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError(f"make serve never became ready:\n{log.read_text()}")
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(60)
    text = log.read_text()
    assert "model u2netp loaded" in text, text
    assert "u2net.onnx" not in text


def test_the_quality_tier_s_local_targets_build_and_serve_the_tier_the_stack_files_deploy() -> None:
    """make image-quality-local and make serve-quality-local: the int8 model of the ISNet file fetched here (its
    md5 depends on the machine that quantized it, so it is not pinned), with the tier's core."""
    for target, what in (("image-quality-local", "scripts/build-image.sh"), ("serve-quality-local", "index.py")):
        dry = subprocess.run(
            ["make", "--no-print-directory", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True
        )
        assert what in dry.stdout, dry.stdout
        assert f"REMBG_CORE_MODEL={models.QUALITY_CORE}" in dry.stdout
        assert f"MODEL_FILE={isnet.int8_path()}" in dry.stdout or f"REMBG_MODEL_PATH={isnet.int8_path()}" in dry.stdout
        assert "REMBG_MODEL=dis_custom" in dry.stdout
