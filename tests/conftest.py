"""Fixtures: servers in their own processes on loopback, and rembg's own sessions for parity."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import models
from harness.processes import PYTHONPATH
from tests.support.server import MODEL_HOME, ServerProcess


@pytest.fixture(scope="session", autouse=True)
def model_home() -> Path:
    """The models `make` fetched, for rembg in this process too, unless U2NET_HOME points elsewhere."""
    os.environ.setdefault("U2NET_HOME", str(MODEL_HOME))
    return MODEL_HOME


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator:
    """Start servers with extra environment; every one is stopped after the test, its log printed."""
    started: list[ServerProcess] = []

    def start(pythonpath: Path | None = None, **env: str) -> ServerProcess:
        server = ServerProcess(tmp_path / f"server-{len(started)}.log", env, pythonpath=pythonpath or PYTHONPATH)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        print(f"--- {server.log_path.name} ---\n{server.log()}")  # shown when the test failed


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
    """A server with REMBG_MODEL unset: the default model, u2net-int8 (made by `make test`)."""
    yield from _shared_server(tmp_path_factory, "default", {}, unset=("REMBG_MODEL",))


@pytest.fixture(scope="session")
def parity_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The parity mode: rembg's own fp32 u2net, whose cut-outs are rembg's."""
    yield from _shared_server(tmp_path_factory, "u2net", {"REMBG_MODEL": "u2net"})


@pytest.fixture(scope="session")
def quality_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The quality tier: ISNet (the file fetched here, as dis_custom) with u2netp's core."""
    yield from _shared_server(tmp_path_factory, "quality", models.settings(models.QUALITY))


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
