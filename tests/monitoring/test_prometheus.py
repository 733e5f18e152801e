"""A real Prometheus server (Debian's package) on loopback scraping a running function.

After requests of known outcome, PromQL through Prometheus' HTTP API returns those counts by
status, and the project's alert rules load without error.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from harness.processes import ROOT, free_port, terminate
from tests.support import images
from tests.support.server import ServerProcess

RULES = ROOT / "monitoring" / "alerts.yml"
EXPECTED = {"200": 3, "400": 2, "404": 1, "413": 1, "415": 1}


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator:
    """Start Prometheus scraping `target` every second; stopped after the test."""
    started: list[subprocess.Popen] = []

    def start(target: str) -> str:
        binary = shutil.which("prometheus")
        assert binary, "prometheus is missing: make test installs it (scripts/prometheus.sh)"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [{"job_name": "remove-bg", "static_configs": [{"targets": [target]}]}],
        }
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        command = [
            binary,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        with (tmp_path / "prometheus.log").open("wb") as log:
            started.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/-/ready", timeout=1).status_code == 200:
                    return url
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise AssertionError((tmp_path / "prometheus.log").read_text())

    yield start
    for proc in started:
        terminate(proc)


def _query(url: str, promql: str) -> dict[str, float]:
    answer = requests.get(url + "/api/v1/query", params={"query": promql}, timeout=10).json()
    assert answer["status"] == "success", answer
    return {item["metric"].get("status", ""): float(item["value"][1]) for item in answer["data"]["result"]}


def test_prometheus_counts_what_the_function_answered(start_server, prometheus) -> None:
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", MAX_BODY_BYTES="2000000").wait_ready()
    url = prometheus(f"127.0.0.1:{server.metrics_port}")
    statuses = [server.post(images.jpeg()).status_code for _ in range(3)]
    statuses += [server.post(b"\xff\xd8\xff" + b"\x00" * 64).status_code for _ in range(2)]
    statuses += [server.post(b"plain text").status_code]
    statuses += [server.post(b"x", path="/_/nothing").status_code]
    statuses += [server.post(b"\x00" * 3_000_000).status_code]
    assert sorted(statuses) == sorted(int(status) for status, n in EXPECTED.items() for _ in range(n))

    deadline = time.monotonic() + 30
    counts: dict[str, float] = {}
    while time.monotonic() < deadline:
        counts = _query(url, 'sum by (status) (remove_bg_requests_total{job="remove-bg"})')
        if counts == {status: float(n) for status, n in EXPECTED.items()}:
            break
        time.sleep(0.5)
    assert counts == {status: float(n) for status, n in EXPECTED.items()}
    assert _query(url, 'remove_bg_ready{job="remove-bg"}') == {"": 1.0}
    assert _query(url, 'sum(remove_bg_errors_total{code="corrupt_image"})') == {"": 2.0}
    assert _query(url, 'sum(remove_bg_stage_seconds_count{stage="mask"})') == {"": 3.0}

    loaded: list[dict] = []
    while time.monotonic() < deadline + 30:
        groups = requests.get(url + "/api/v1/rules", timeout=10).json()["data"]["groups"]
        loaded = [rule for group in groups for rule in group["rules"]]
        if loaded and all(rule["health"] == "ok" for rule in loaded):
            break
        time.sleep(0.5)
    assert len(loaded) == 7
    assert all(rule["health"] == "ok" for rule in loaded), loaded
