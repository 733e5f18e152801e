"""The servers a benchmark compares, as child processes: ours and rembg's own, and the first 200 from each."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from harness import models
from harness.processes import INDEX, PYTHONPATH, ROOT, free_port, peak_rss_kb, terminate


@dataclass
class Server:
    name: str
    url: str
    proc: subprocess.Popen
    started: float
    post: Callable[[requests.Session, bytes], requests.Response]
    ready: Callable[[requests.Session], bool]

    def peak_rss_mb(self) -> float:
        return peak_rss_kb(self.proc.pid) / 1024

    def stop(self) -> None:
        terminate(self.proc)


def start_ours(
    python: str, model: str, env: dict[str, str], log: Path, max_inflight: int = 1, *, root: Path = ROOT
) -> Server:
    """Our server from this checkout, or from the checkout at `root` (another revision, laid out the same)."""
    port = free_port()
    full_env = {
        **models.environment(env, model),
        "PYTHONPATH": str(root / PYTHONPATH.relative_to(ROOT)),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "METRICS_PORT": str(free_port()),
        "MAX_INFLIGHT": str(max_inflight),
        "LOG_LEVEL": "WARNING",
    }
    url = f"http://127.0.0.1:{port}/"

    def post(session: requests.Session, body: bytes) -> requests.Response:
        return session.post(url, data=body, timeout=300)

    def ready(session: requests.Session) -> bool:
        return session.get(url + "_/health", timeout=1).status_code == 200

    index = root / INDEX.relative_to(ROOT)
    return _spawn("ours", [python, str(index)], full_env, url=url, log=log, post=post, ready=ready)


def start_rembg_server(python: str, model: str, env: dict[str, str], log: Path) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/remove"
    rembg = str(Path(python).parent / "rembg")

    def post(session: requests.Session, body: bytes) -> requests.Response:
        return session.post(url, files={"file": ("image.jpg", body)}, data={"model": model}, timeout=300)

    def ready(session: requests.Session) -> bool:
        session.get(url, timeout=1)  # it loads the model on the first POST: listening is all it says
        return True

    command = [rembg, "s", "--no-ui", "--host", "127.0.0.1", "--port", str(port), "--log_level", "warning"]
    return _spawn("rembg s", command, env, url=url, log=log, post=post, ready=ready)


def _spawn(name: str, command: list[str], env: dict[str, str], *, url: str, log: Path, post, ready) -> Server:
    handle = log.open("wb")
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    handle.close()
    return Server(name=name, url=url, proc=proc, started=started, post=post, ready=ready)


def time_to_ready(server: Server, timeout: float = 300.0) -> float:
    """Seconds from process start to its first "ready": what a platform waits for before it sends work."""
    return _poll(server, server.ready, timeout)


def first_success(server: Server, body: bytes, timeout: float = 300.0) -> float:
    """Seconds from process start to the first 200 for a real image (cold start).

    As a platform does (the OpenFaaS gateway, Knative's activator), the image is sent once the
    server says it is ready; until then a cheap probe is polled every 20 ms.
    """
    return _poll(
        server, lambda session: server.ready(session) and server.post(session, body).status_code == 200, timeout
    )


def _poll(server: Server, check: Callable[[requests.Session], bool], timeout: float) -> float:
    """Seconds from the server's start until `check` holds, tried every 20 ms."""
    session = requests.Session()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}")
        try:
            if check(session):
                return time.perf_counter() - server.started
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{server.name}: not there within {timeout} s")


def clean_env(numba_cache: Path, model_home: Path) -> dict[str, str]:
    """The environment both servers start in: an empty numba cache, the same model directory."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("NUMBA_", "REMBG_"))}
    env["NUMBA_CACHE_DIR"] = str(numba_cache)
    env["U2NET_HOME"] = str(model_home)
    return env
