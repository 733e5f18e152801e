"""The long build steps' progress, as a person at a terminal and a CI log each see it."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

from harness.processes import PYTHONPATH

STEP = """
import logging, time
from function.prepare.progress import shown, step
logging.basicConfig(level=logging.INFO, format="%(message)s")
for _ in shown(list(range(6)), "calibrating", "photos"):
    time.sleep(0.3)
with step("writing the model"):
    print("a library's own line")
print("/the/answer.onnx")
"""


def _run(stderr: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PYTHONPATH)}
    return subprocess.run(
        [sys.executable, "-c", STEP], env=env, stdout=subprocess.PIPE, stderr=stderr, timeout=60, check=True
    )


def test_a_log_gets_plain_lines_and_stdout_only_the_answer() -> None:
    result = _run(subprocess.PIPE)
    log = result.stderr.decode()
    assert result.stdout.decode() == "/the/answer.onnx\n", "a Makefile's $(...) reads stdout: nothing else may be there"
    assert "\r" not in log, "no bar's carriage returns in a log"
    assert "calibrating: 1/6 photos" in log and "calibrating: 6 photos done in" in log
    assert "writing the model: done in" in log and "a library's own line" not in log


def test_a_terminal_gets_a_bar_with_an_estimate() -> None:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal's size: 100 columns
    try:
        result = _run(follower)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    text = shown.decode(errors="replace")
    assert result.stdout.decode() == "/the/answer.onnx\n"
    assert "calibrating" in text and "6/6" in text and "\r" in text, text[-500:]
    assert "<" in text and "photos/s" in text, "tqdm's estimate of the time left and its rate"
