"""The Makefile's entry points behave as the README says, run as a user runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

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
