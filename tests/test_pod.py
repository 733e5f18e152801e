"""harness/cgroup.py itself: the pod-like memory cgroup and the process-tree fallback, on real processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from harness import cgroup as pod

MB = 1_000_000
# Allocates and touches `argv[1]` MB in a child of its own (so a tree, not one process, holds it), frees it if
# `argv[2]` says so, says so, and waits until its stdin closes.
_HOLDER = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", '''
import sys
block = b"x" * (int(sys.argv[1]) * 1_000_000)
if sys.argv[2] == "free":
    del block
print("held", flush=True)
sys.stdin.read()
''', *sys.argv[1:]], stdin=sys.stdin, stdout=sys.stdout)
child.wait()
"""


def _hold(megabytes: int, then: str = "keep") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(megabytes), then], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def _release(holder: subprocess.Popen) -> None:
    holder.communicate(timeout=30)


@pytest.fixture
def cgroup() -> Iterator[pod.MemoryCgroup]:
    parent = pod.own_memory_cgroup()
    if parent is None:
        pytest.skip("no writable cgroup v1 memory controller here: Pod falls back to VmHWM")
    made = pod.MemoryCgroup(parent, pod.POD_LIMIT_BYTES)
    yield made
    made.remove()


def test_a_child_allocating_300_mb_raises_the_cgroup_peak_by_300_mb(cgroup: pod.MemoryCgroup) -> None:
    cgroup.reset_peak()
    before = cgroup.peak_bytes()
    with cgroup.joined():
        holder = _hold(300)
    assert holder.stdout.readline().strip() == "held"
    assert len(cgroup.pids()) == 2  # the holder and its child, both inside
    peak = cgroup.peak_bytes()
    _release(holder)
    assert peak - before >= 300 * MB, (before, peak)
    assert cgroup.oom_kills() == 0
    cgroup.reset_peak()
    assert cgroup.peak_bytes() < 300 * MB  # a reset starts from what is resident now


def test_the_limit_is_enforced_and_the_oom_kill_seen() -> None:
    parent = pod.own_memory_cgroup()
    if parent is None:
        pytest.skip("no writable cgroup v1 memory controller here")
    small = pod.MemoryCgroup(parent, 150 * MB)
    try:
        with small.joined():
            holder = _hold(300)
        holder.communicate(timeout=60)
        assert small.oom_kills() >= 1
        assert small.limit_hits() > 0
    finally:
        small.remove()


def test_the_fallback_sums_the_peaks_of_the_whole_tree() -> None:
    holder = _hold(300, then="free")
    try:
        assert holder.stdout.readline().strip() == "held"
        assert len(pod.process_tree(holder.pid)) == 2
        assert pod.tree_peak_bytes(holder.pid) >= 300 * MB
        pod.reset_tree_peaks(holder.pid)
        assert pod.tree_peak_bytes(holder.pid) < 100 * MB  # VmHWM restarts from the resident set, freed now
    finally:
        _release(holder)
