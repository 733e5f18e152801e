"""A pod's memory as Kubernetes counts it: one memory cgroup around a process and every process it starts.

A process's own VmHWM misses what its children use (the decode worker), and a pod is killed for the
sum. Where the cgroup v1 memory controller is writable (/sys/fs/cgroup/memory), a `MemoryCgroup` is a
child cgroup of this process's own with the pod profile's limit (2 GiB): a process forked from a
thread `joined()` to it is in it from its first instruction, with everything it spawns, and the
kernel's own peak (memory.max_usage_in_bytes: resident memory, page cache and tmpfs alike, as the
kubelet sees them), limit hits (memory.failcnt) and OOM kills are read from it. Where it is not
writable, the fallback is the sum of VmHWM over a process tree (reset through clear_refs): a child
that has already exited is missed, and nothing enforces the limit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from harness.processes import reset_peak

MEMORY_ROOT = Path("/sys/fs/cgroup/memory")
POD_LIMIT_BYTES = 2 * 1024**3  # the pod profile's memory limit (stack.yml)
CGROUP = "cgroup"
VMHWM = "VmHWM of the process tree"


def own_memory_cgroup() -> Path | None:
    """This process's memory cgroup directory, or None without a writable v1 memory controller."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            directory = MEMORY_ROOT / path.lstrip("/")
            return directory if os.access(directory, os.W_OK) else None
    return None


class MemoryCgroup:
    """A child memory cgroup of this process's own, with a limit: made here, removed by `remove`."""

    def __init__(self, parent: Path, limit_bytes: int) -> None:
        self.parent = parent
        self.path = parent / f"pod-{uuid.uuid4().hex[:12]}"
        self.path.mkdir()
        self._write("memory.limit_in_bytes", limit_bytes)

    def _write(self, name: str, value: int) -> None:
        (self.path / name).write_text(str(value))

    def _read(self, name: str) -> str:
        return (self.path / name).read_text()

    @contextlib.contextmanager
    def joined(self) -> Iterator[None]:
        """This thread inside the cgroup for the block: what it forks there stays there."""
        thread = threading.get_native_id()
        (self.path / "tasks").write_text(str(thread))
        try:
            yield
        finally:
            (self.parent / "tasks").write_text(str(thread))

    def pids(self) -> list[int]:
        return [int(pid) for pid in self._read("cgroup.procs").split()]

    def usage_bytes(self) -> int:
        return int(self._read("memory.usage_in_bytes"))

    def peak_bytes(self) -> int:
        return int(self._read("memory.max_usage_in_bytes"))

    def reset_peak(self) -> None:
        self._write("memory.max_usage_in_bytes", 0)

    def limit_hits(self) -> int:
        """How many times a charge met the limit (memory.failcnt)."""
        return int(self._read("memory.failcnt"))

    def oom_kills(self) -> int:
        """Processes the OOM killer took in this cgroup (the kernel's oom_kill count)."""
        fields = dict(line.split() for line in self._read("memory.oom_control").splitlines())
        return int(fields.get("oom_kill", 0))

    def remove(self, grace: float = 10.0) -> None:
        """Once the processes left in it have exited (SIGKILLed after `grace`: all were started here), rmdir."""
        deadline = time.monotonic() + grace
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        while self.pids():
            time.sleep(0.05)
        self.path.rmdir()


def _parents() -> dict[int, int]:
    """Every live process's parent, from /proc/<pid>/stat (the field after the parenthesised name)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parents


def process_tree(pid: int) -> list[int]:
    """`pid` and its live descendants."""
    parents = _parents()
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending += [child for child, parent in parents.items() if parent == current]
    return tree


def _vmhwm_bytes(pid: int) -> int:
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def tree_peak_bytes(pid: int) -> int:
    """The fallback measure: the sum of each live process's own peak in the tree under `pid`."""
    return sum(_vmhwm_bytes(member) for member in process_tree(pid))


def reset_tree_peaks(pid: int) -> None:
    for member in process_tree(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            reset_peak(member)
