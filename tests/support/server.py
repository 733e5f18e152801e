"""The server as the platform runs it: index.py in its own process, on its own port, over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from harness.processes import INDEX, PYTHONPATH, ROOT, free_port, terminate

MODEL_HOME = Path(os.environ.get("U2NET_HOME", ROOT / ".models"))
START_TIMEOUT = 120.0


class ServerProcess:
    def __init__(
        self, log_path: Path, env: dict[str, str], unset: tuple[str, ...] = (), pythonpath: Path = PYTHONPATH
    ) -> None:
        self.port = free_port()
        self.metrics_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        full_env = {
            **os.environ,
            "PYTHONPATH": str(pythonpath),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "METRICS_PORT": str(self.metrics_port),
            "U2NET_HOME": str(MODEL_HOME),
            **env,
        }
        for name in unset:
            full_env.pop(name, None)
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(INDEX)], env=full_env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def health(self, path: str = "/_/health") -> int | None:
        try:
            return requests.get(self.url + path, timeout=1).status_code
        except requests.ConnectionError:
            return None

    def wait_ready(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            if self.health() == 200:
                return self
            time.sleep(0.05)
        raise AssertionError(f"server not ready after {timeout} s:\n{self.log()}")

    def wait_in_flight(self, timeout: float = 60.0) -> None:
        """Until /_/ready turns 429: every in-flight slot is taken."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.health("/_/ready") == 429:
                return
            time.sleep(0.005)
        raise AssertionError("the request never showed as in flight")

    def wait_exit(self, timeout: float = 60.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"server still running after {timeout} s:\n{self.log()}") from None

    def metrics(self) -> str:
        """The Prometheus exposition from the metrics port."""
        response = requests.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2)
        assert response.status_code == 200
        return response.text

    def post(self, body: bytes, path: str = "/", **kwargs: object) -> requests.Response:
        return requests.post(self.url + path, data=body, timeout=120, **kwargs)

    def stop(self) -> None:
        terminate(self.proc)
        self._log.close()
