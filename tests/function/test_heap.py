"""Large buffers freed straight back to the kernel: what it changes, seen in a process of its own."""

from __future__ import annotations

import subprocess
import sys

from harness.processes import PYTHONPATH

# Allocates 8 MB buffers, 40 at a time, and frees all but the last, as a model run frees its
# activations while its output lives on; twice, because glibc raises its threshold on the first
# free. The resident memory then says whether the freed buffers went back to the kernel.
_CHILD = """
import ctypes, sys
from function.process import heap
if sys.argv[1] == "on":
    assert heap.release_large_buffers()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
for _ in range(2):
    blocks = [libc.malloc(8 << 20) for _ in range(40)]
    for block in blocks:
        ctypes.memset(block, 1, 8 << 20)
    for block in blocks[:-1]:
        libc.free(block)
    print(rss_mb())
    libc.free(blocks[-1])
"""


def _resident_after_freeing(mode: str, env: dict[str, str] | None = None) -> int:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, mode],
        env={"PYTHONPATH": str(PYTHONPATH), **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.split()[-1])


def test_freed_large_buffers_leave_the_process() -> None:
    kept = _resident_after_freeing("off")
    returned = _resident_after_freeing("on")
    assert kept >= returned + 200, f"glibc's own thresholds kept {kept} MB, ours {returned} MB"


def test_the_deployer_s_own_threshold_wins() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from function.process import heap; print(heap.release_large_buffers())"],
        env={"PYTHONPATH": str(PYTHONPATH), "MALLOC_MMAP_THRESHOLD_": "65536"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"
