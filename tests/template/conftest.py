"""Fixtures: the template serving the echo function, a second function of the same shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.processes import ROOT
from tests.support.server import ServerProcess

ECHO = ROOT / "tests" / "support" / "echo"


@pytest.fixture
def start_echo(start_server, tmp_path: Path):
    """Start the template with the echo function laid out as `function`, as OpenFaaS lays one out."""
    pythonpath = tmp_path / "pythonpath"
    pythonpath.mkdir()
    (pythonpath / "function").symlink_to(ECHO)

    def start(**env: str) -> ServerProcess:
        return start_server(pythonpath=pythonpath, **env)

    return start
