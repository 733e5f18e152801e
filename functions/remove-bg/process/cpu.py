"""How many CPUs this process may really use: the cgroup quota, capped by the affinity mask.

A 2-CPU pod on a 64-core node sees 64 cores in os.cpu_count(); its cgroup says 2. Running 64
ONNX Runtime threads there only thrashes, so the thread count comes from here.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def usable_cpus(
    cgroup_root: Path = CGROUP_ROOT,
    proc_cgroup: Path = PROC_CGROUP,
    affinity: int | None = None,
) -> int:
    """CPUs available to this process: min(cgroup quota, affinity), at least 1."""
    if affinity is None:
        affinity = len(os.sched_getaffinity(0))
    quota = cgroup_cpu_limit(cgroup_root, proc_cgroup)
    if quota is None:
        return max(1, affinity)
    return max(1, min(affinity, math.floor(quota)))


def cgroup_cpu_limit(cgroup_root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """The tightest CPU quota over this process's cgroup and its ancestors, in CPUs; None if none."""
    limits = [
        limit for directory in _cgroup_dirs(cgroup_root, proc_cgroup) if (limit := _read_limit(directory)) is not None
    ]
    return min(limits) if limits else None


def parse_cpu_max(text: str) -> float | None:
    """cgroup v2 cpu.max: "max 100000" (no limit) or "200000 100000" (2 CPUs)."""
    fields = text.split()
    if not fields or fields[0] == "max":
        return None
    period = int(fields[1]) if len(fields) > 1 else 100_000
    return _ratio(int(fields[0]), period)


def parse_cfs(quota_text: str, period_text: str) -> float | None:
    """cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us; a quota of -1 means no limit."""
    return _ratio(int(quota_text.strip()), int(period_text.strip()))


def _ratio(quota: int, period: int) -> float | None:
    if quota <= 0 or period <= 0:
        return None
    return quota / period


def _cgroup_dirs(cgroup_root: Path, proc_cgroup: Path) -> list[Path]:
    """Candidate directories holding CPU limits: the process's own cgroup, its ancestors, the root."""
    relative = _own_cgroup_paths(proc_cgroup)
    mounts = [cgroup_root, cgroup_root / "cpu", cgroup_root / "cpu,cpuacct"]
    found: list[Path] = []
    for mount in mounts:
        for rel in relative:
            path = Path(rel.lstrip("/"))
            while True:
                candidate = mount / path
                if candidate not in found and candidate.is_dir():
                    found.append(candidate)
                if path == Path("."):
                    break
                path = path.parent
    return found


def _own_cgroup_paths(proc_cgroup: Path) -> list[str]:
    """Paths from /proc/self/cgroup for the unified (v2) and cpu (v1) hierarchies."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return ["/"]
    paths = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "" or "cpu" in controllers.split(","):
            paths.append(path)
    return paths or ["/"]


def _read_limit(directory: Path) -> float | None:
    try:
        cpu_max = directory / "cpu.max"
        if cpu_max.is_file():
            return parse_cpu_max(cpu_max.read_text())
        quota = directory / "cpu.cfs_quota_us"
        if quota.is_file():
            return parse_cfs(quota.read_text(), (directory / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError, IndexError) as exc:
        log.warning("ignoring unreadable CPU limit in %s: %s", directory, exc)
    return None
