"""The malloc arena cap: threads share one arena unless the deployer set glibc's own variable."""

from __future__ import annotations

import os
import subprocess
import sys

from harness.processes import ROOT

TEMPLATE = ROOT / "template" / "python3-rembg"

# Starts threads that each allocate, then counts glibc's arenas in malloc_info's XML report.
PROBE = """
import ctypes, ctypes.util, sys, tempfile, threading
from arenas import limit_arenas
applied = limit_arenas() if sys.argv[1] == "limit" else None
barrier = threading.Barrier(6)
def work():
    barrier.wait()  # all threads allocate at the same time, so they contend for arenas
    buffers = [bytearray(200_000) for _ in range(50)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(6)]
for thread in threads: thread.start()
for thread in threads: thread.join()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile(suffix=".xml") as report:
    stream = libc.fopen(report.name.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    arenas = open(report.name).read().count("<heap nr=")
print(applied, arenas)
"""


def _probe(mode: str, env: dict[str, str]) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], env=env, cwd=TEMPLATE, capture_output=True, text=True, check=True
    )
    applied, arenas = done.stdout.split()
    return applied, int(arenas)


def _env_without_the_variable() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}


def test_threads_share_one_arena_once_limited() -> None:
    env = _env_without_the_variable()
    assert _probe("limit", env) == ("True", 1)
    _, arenas = _probe("leave", env)
    assert arenas > 1, "without the cap, glibc gives contending threads arenas of their own"


def test_the_deployers_malloc_arena_max_wins() -> None:
    env = {**_env_without_the_variable(), "MALLOC_ARENA_MAX": "3"}
    applied, arenas = _probe("limit", env)
    assert applied == "False"
    assert 1 < arenas <= 3
