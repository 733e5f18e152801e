"""Shared fixtures: the real server in a subprocess on loopback, and rembg's own session for parity."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from bench.processes import free_port, terminate
from bench.processes import peak_rss_kb as process_peak_rss_kb

ROOT = Path(__file__).resolve().parent.parent
INDEX = ROOT / "template" / "python3-rembg" / "index.py"
PYTHONPATH = ROOT / "build" / "pythonpath"
MODEL_HOME = Path(os.environ.get("U2NET_HOME", ROOT / ".models"))
START_TIMEOUT = 120.0

os.environ.setdefault("U2NET_HOME", str(MODEL_HOME))
os.environ.setdefault("NUMBA_DISABLE_JIT", "1")


class ServerProcess:
    """index.py run as the platform runs it: its own process, its own port, real HTTP."""

    def __init__(self, log_path: Path, env: dict[str, str], unset: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        full_env = {
            **os.environ,
            "PYTHONPATH": str(PYTHONPATH),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
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

    def wait_exit(self, timeout: float = 60.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"server still running after {timeout} s:\n{self.log()}") from None

    def post(self, body: bytes, path: str = "/", **kwargs: object) -> requests.Response:
        return requests.post(self.url + path, data=body, timeout=120, **kwargs)

    def stop(self) -> None:
        terminate(self.proc)
        self._log.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator:
    """Start servers with extra environment; every one is stopped after the test."""
    started: list[ServerProcess] = []

    def start(**env: str) -> ServerProcess:
        server = ServerProcess(tmp_path / f"server-{len(started)}.log", env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _shared_server(
    tmp_path_factory: pytest.TempPathFactory, name: str, env: dict[str, str], unset: tuple[str, ...] = ()
) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp(name) / "server.log", env, unset).wait_ready()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One u2netp server shared by the contract tests (its survival across them is itself tested)."""
    yield from _shared_server(tmp_path_factory, "u2netp", {"REMBG_MODEL": "u2netp"})


@pytest.fixture(scope="session")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with REMBG_MODEL unset: the default model, u2net."""
    yield from _shared_server(tmp_path_factory, "u2net", {}, unset=("REMBG_MODEL",))


@pytest.fixture(scope="session")
def rembg_sessions() -> dict:
    """rembg's own sessions, created the way rembg's users create them, for parity checks."""
    from rembg import new_session

    cache: dict = {}

    def get(model: str):
        if model not in cache:
            cache[model] = new_session(model)
        return cache[model]

    return get


def alpha_of(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGBA", image.mode
    return np.asarray(image.getchannel("A"), dtype=np.float64)


def mean_alpha_difference(ours: bytes, theirs: bytes) -> float:
    """Mean |Δalpha| in units of 1/255."""
    a, b = alpha_of(ours), alpha_of(theirs)
    assert a.shape == b.shape
    return float(np.abs(a - b).mean())


def peak_rss_kb(server: ServerProcess) -> int:
    """The server process's peak resident memory (VmHWM), in KiB."""
    return process_peak_rss_kb(server.proc.pid)
