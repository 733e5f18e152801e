"""The bound any upload must keep, measured on the pod (issue 30): an answer in time, the pod's memory, the probes.

`attempt` posts one body to a server in its pod (tests/support/pod.py), its peak reset first, while a thread
asks /_/health all along; the `Trial` it gives says what broke the bound, if anything. `recover` hands
back a server free for the next case: the same one once it is idle again, or a fresh one where it died or
stays busy (a case the client gave up on may still hold the slot).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from harness.memory import BUDGET_BYTES
from tests.support.pod import Pod
from tests.support.server import ServerProcess

ANSWER_SECONDS = 10.0  # issue 30: every case answers within 10 s on 2 CPUs
PROBE_SECONDS = 1.0  # and the probes answer within 1 s meanwhile
CLIENT_SECONDS = 60.0  # the gateway's timeout: past it, no client is still waiting
IDLE_SECONDS = 120.0  # how long `recover` waits for a busy server before starting another
MB = 1_000_000
# The kernel's CPU pressure (PSI): how long runnable tasks stood waiting for a CPU that other work held.
CPU_PRESSURE = Path("/proc/pressure/cpu")


def cpu_stall_seconds() -> float:
    """The machine's total CPU stall so far ("some": at least one task waiting), 0 where the kernel has no PSI.

    The bound is the pod's, on its 2 CPUs: on a machine busy with other work (a make test beside make check),
    the case's answer is held back by as long as tasks waited for a CPU, which is not the pod's doing. On an
    idle machine (CI) that is near 0 and the bound is the wall clock's."""
    try:
        text = CPU_PRESSURE.read_text()
    except OSError:
        return 0.0
    some = next(line for line in text.splitlines() if line.startswith("some "))
    return int(some.rpartition("total=")[2]) / 1e6


class HealthProbe(threading.Thread):
    """Asks /_/health every 50 ms until stopped; keeps the slowest answer (inf for none within 1 s)."""

    def __init__(self, server: ServerProcess) -> None:
        super().__init__(daemon=True)
        self.url = server.url + "/_/health"
        self.slowest = 0.0
        self.asked = 0
        self._stop_asked = threading.Event()

    def run(self) -> None:
        while not self._stop_asked.is_set():
            started = time.monotonic()
            try:
                answered = requests.get(self.url, timeout=PROBE_SECONDS).status_code == 200
            except requests.RequestException:
                answered = False
            took = time.monotonic() - started if answered else math.inf
            self.slowest = max(self.slowest, took)
            self.asked += 1
            self._stop_asked.wait(0.05)

    def finish(self) -> float:
        self._stop_asked.set()
        self.join()
        return self.slowest


@dataclass
class Trial:
    """One body's answer as the pod saw it."""

    status: int | None  # None: no answer within CLIENT_SECONDS, or the connection broke
    seconds: float
    stalled: float  # of those seconds, how long the machine's tasks waited for a CPU (cpu_stall_seconds)
    peak_bytes: int
    json: bool
    slowest_probe: float
    oom_kills: int
    response: requests.Response | None = None
    problems: list[str] = field(default_factory=list)

    def row(self, name: str) -> str:
        status = "none" if self.status is None else str(self.status)
        probe = "none" if math.isinf(self.slowest_probe) else f"{self.slowest_probe:.2f}"
        return f"| {name} | {status} | {self.seconds:.1f} | {self.peak_bytes // MB} | {probe} |"

    def breaches(self) -> list[str]:
        """What broke the bound: an empty list when the case kept it."""
        found = list(self.problems)
        if self.status is None or not (200 <= self.status < 300 or 400 <= self.status < 500):
            found.append(f"answer {self.status}, not a 2xx or 4xx")
        elif self.status >= 400 and not self.json:
            found.append("a 4xx that is not JSON")
        if self.seconds - self.stalled > ANSWER_SECONDS:
            found.append(
                f"{self.seconds:.1f} s to answer, {self.stalled:.1f} s of it waiting for a CPU held by other work "
                f"(bound {ANSWER_SECONDS:.0f} s of the pod's own)"
            )
        if self.peak_bytes > BUDGET_BYTES:
            found.append(f"pod peak {self.peak_bytes // MB} MB (bound {BUDGET_BYTES // MB} MB)")
        if self.slowest_probe > PROBE_SECONDS:
            found.append("/_/health took over 1 s or did not answer while the case was in work")
        if self.oom_kills:
            found.append(f"{self.oom_kills} OOM kill(s) in the pod")
        return found


def attempt(pod: Pod, body: bytes, path: str = "/", headers: dict[str, str] | None = None) -> Trial:
    server = pod.server
    kills_before = pod.oom_kills()
    pod.reset_peak()
    probe = HealthProbe(server)
    probe.start()
    started, stalled = time.monotonic(), cpu_stall_seconds()
    status, is_json, problems, response = None, False, [], None
    try:
        response = requests.post(server.url + path, data=body, headers=headers or {}, timeout=CLIENT_SECONDS)
        status = response.status_code
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
    except requests.RequestException as exc:
        problems.append(f"no answer: {type(exc).__name__}")
    seconds, stalled = time.monotonic() - started, min(cpu_stall_seconds() - stalled, time.monotonic() - started)
    slowest = probe.finish()
    kills = pod.oom_kills() - kills_before
    return Trial(status, seconds, stalled, pod.peak_bytes(), is_json, slowest, kills, response, problems)


def recover(pod: Pod) -> ServerProcess:
    """The pod's server, idle: waited for while it finishes a case nobody waits for, restarted if it died."""
    deadline = time.monotonic() + IDLE_SECONDS
    while pod.server.proc.poll() is None and time.monotonic() < deadline:
        if pod.server.health("/_/ready") == 200:
            return pod.server
        time.sleep(0.1)
    return pod.restart()
