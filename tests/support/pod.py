"""A test server in a pod-like memory cgroup (harness/cgroup.py), or measured by its process tree's VmHWM without one.

The server is started from a thread moved into the cgroup for the moment of its fork (cgroup v1 moves
single threads through `tasks`), so the server is in it from its first instruction, and with it
everything it spawns; the test process itself never is.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from harness.cgroup import (
    CGROUP,
    POD_LIMIT_BYTES,
    VMHWM,
    MemoryCgroup,
    own_memory_cgroup,
    reset_tree_peaks,
    tree_peak_bytes,
)
from tests.support.server import ServerProcess


class Pod:
    """A ServerProcess in a pod-like memory cgroup (or, without one, measured by its process tree's VmHWM)."""

    def __init__(self, log_path: Path, env: dict[str, str], limit_bytes: int = POD_LIMIT_BYTES) -> None:
        self.log_path = log_path
        self.env = env
        parent = own_memory_cgroup()
        self.cgroup = MemoryCgroup(parent, limit_bytes) if parent is not None else None
        self.measure = CGROUP if self.cgroup is not None else VMHWM
        self.starts = 0
        self.server = self._start()

    def _start(self) -> ServerProcess:
        self.starts += 1
        log_path = self.log_path.with_name(f"{self.log_path.stem}-{self.starts}{self.log_path.suffix}")
        with self.cgroup.joined() if self.cgroup is not None else contextlib.nullcontext():
            server = ServerProcess(log_path, self.env)
        return server.wait_ready()

    def restart(self) -> ServerProcess:
        """A fresh server in the same cgroup, after one that died or would not come free."""
        self.server.stop()
        self.server = self._start()
        return self.server

    def peak_bytes(self) -> int:
        return self.cgroup.peak_bytes() if self.cgroup is not None else tree_peak_bytes(self.server.proc.pid)

    def reset_peak(self) -> None:
        if self.cgroup is not None:
            self.cgroup.reset_peak()
        else:
            reset_tree_peaks(self.server.proc.pid)

    def oom_kills(self) -> int:
        """OOM kills in the pod so far (0 where only the fallback measure runs: nothing enforces a limit)."""
        return self.cgroup.oom_kills() if self.cgroup is not None else 0

    def stop(self) -> None:
        self.server.stop()
        if self.cgroup is not None:
            self.cgroup.remove()
