"""Child processes for tests and benchmarks alike: a free port, peak memory, a clean stop."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INDEX = ROOT / "template" / "python3-rembg" / "index.py"
# Where `make venv` lays the function out as the package `function`, as OpenFaaS does beside index.py.
PYTHONPATH = ROOT / "build" / "pythonpath"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_kb(pid: int) -> int:
    """A live process's peak resident memory (VmHWM), in KiB."""
    return _status_kb(pid, "VmHWM")


def reset_peak(pid: int) -> None:
    """Start a live process's peak (VmHWM) again from what is resident now (Linux 4.0's clear_refs 5), so the
    next peak read is of what came after, not of all the process's life."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def rss_kb(pid: int) -> int:
    """A live process's resident memory now (VmRSS), in KiB."""
    return _status_kb(pid, "VmRSS")


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def terminate(proc: subprocess.Popen, grace: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if it is still running after `grace` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
