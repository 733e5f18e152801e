"""Traffic for the load, soak and capacity runs: clients, a health prober, a memory sampler.

Everything here sends to one loopback URL, and every loop ends by itself: by a deadline, a
count, or a stop event. Each response is checked as the worker would use it (a 200 must be a PNG
that decodes at the size the photo has), and kept as an Outcome for the caller's report.
"""

from __future__ import annotations

import io
import math
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from PIL import Image

from harness.retries import ClientRetries, retry_after_s

PROBE_INTERVAL_S = 0.2
SAMPLE_INTERVAL_S = 0.5
PROBE_BUDGET_S = 1.0  # a Knative readiness probe's timeout
BUSY_PAUSE_S = 0.2  # a client told 429 waits this long before its next request (Retry-After says 1 s)


@dataclass(frozen=True)
class Shot:
    """One kind of request: its body and what a correct answer is."""

    name: str
    body: bytes
    size: tuple[int, int] | None  # the cut-out's size; None: a hostile body, a 4xx is correct
    weight: int = 1


@dataclass(frozen=True)
class Outcome:
    shot: str
    started: float  # monotonic
    seconds: float
    status: int | None  # None: no HTTP answer
    correct: bool  # a 200 that decoded at the right size, or the 4xx a hostile body deserves
    error: str = ""


def check(shot: Shot, response: requests.Response) -> bool:
    """True for the answer `shot` deserves; anything unreadable is simply wrong (never an exception)."""
    try:
        if shot.size is None:
            return 400 <= response.status_code < 500 and bool(response.json()["error"]["code"])
        if response.status_code != 200:
            return False
        image = Image.open(io.BytesIO(response.content))
        image.load()
    except (OSError, ValueError, KeyError, TypeError, SyntaxError):
        return False
    return (image.format, image.mode, image.size) == ("PNG", "RGBA", shot.size)


def send(session: requests.Session, url: str, shot: Shot, timeout: float) -> Outcome:
    started = time.monotonic()
    try:
        response = session.post(url, data=shot.body, timeout=timeout)
    except requests.RequestException as exc:
        return Outcome(shot.name, started, time.monotonic() - started, None, False, type(exc).__name__)
    seconds = time.monotonic() - started
    correct = response.status_code in (429, 503) or check(shot, response)
    return Outcome(shot.name, started, seconds, response.status_code, correct)


def wait_in_work(base_url: str, timeout: float = 30.0) -> None:
    """Until readiness answers 429 (the one slot taken): with MAX_INFLIGHT=1 and nothing else sent,
    the request just sent is in work, which is how a drain or a kill test knows it has one to lose."""
    deadline = time.monotonic() + timeout
    while requests.get(base_url + "/_/ready", timeout=5).status_code != 429:
        assert time.monotonic() < deadline, "the request never showed as in work"
        time.sleep(0.005)


def pick(shots: list[Shot], rng: random.Random) -> Shot:
    return rng.choices(shots, weights=[shot.weight for shot in shots])[0]


@dataclass
class Recorder:
    outcomes: list[Outcome] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)


def closed_loop(
    url: str, shots: list[Shot], *, clients: int, seconds: float, timeout: float, stop: threading.Event | None = None
) -> list[Outcome]:
    """`clients` clients, each sending its next request when the last is answered, for `seconds`."""
    recorder = Recorder()
    deadline = time.monotonic() + seconds
    stop = stop or threading.Event()

    def client(index: int) -> None:
        rng = random.Random(index)
        with requests.Session() as session:
            while time.monotonic() < deadline and not stop.is_set():
                outcome = send(session, url, pick(shots, rng), timeout)
                recorder.add(outcome)
                if outcome.status in (429, 503) or outcome.status is None:
                    time.sleep(BUSY_PAUSE_S)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + timeout + 10)
    return recorder.outcomes


def open_loop(
    url: str, shots: list[Shot], *, rate: float, seconds: float, timeout: float, most_open: int = 32, seed: int = 0
) -> list[Outcome]:
    """Poisson arrivals at `rate` per second for `seconds`, at most `most_open` at once (more: not sent)."""
    recorder = Recorder()
    rng = random.Random(seed)
    slots = threading.BoundedSemaphore(most_open)
    threads: list[threading.Thread] = []
    local = threading.local()

    def one(shot: Shot) -> None:
        try:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            recorder.add(send(local.session, url, shot, timeout))
        finally:
            slots.release()

    deadline = time.monotonic() + seconds
    next_at = time.monotonic()
    while next_at < deadline:
        time.sleep(max(0.0, next_at - time.monotonic()))
        shot = pick(shots, rng)
        if slots.acquire(blocking=False):
            thread = threading.Thread(target=one, args=(shot,), daemon=True)
            thread.start()
            threads.append(thread)
        else:
            recorder.add(Outcome(shot.name, time.monotonic(), 0.0, None, False, "client slots full"))
        next_at += rng.expovariate(rate)
    for thread in threads:
        thread.join(timeout + 10)
    return recorder.outcomes


def queued(url: str, shot: Shot, *, rate: float, count: int, timeout: float, seed: int = 0) -> list[float]:
    """Response times of `count` Poisson arrivals at `rate`, queued FIFO in front of one replica.

    This is what the platform's queue (Knative's queue-proxy, the OpenFaaS queue) does in front
    of a pod that takes one image at a time: wait, then service.
    """
    rng = random.Random(seed)
    arrivals, at = [], time.monotonic() + 0.5
    for _ in range(count):
        arrivals.append(at)
        at += rng.expovariate(rate)
    times = []
    with requests.Session() as session:
        for arrival in arrivals:
            time.sleep(max(0.0, arrival - time.monotonic()))
            outcome = send(session, url, shot, timeout)
            if outcome.status != 200 or not outcome.correct:
                raise RuntimeError(f"{shot.name}: {outcome}")
            times.append(time.monotonic() - arrival)
    return times


def retried(
    url: str, shot: Shot, *, rate: float, seconds: float, retries: ClientRetries, seed: int = 0
) -> list[tuple[float, int]]:
    """(time to a cut-out, attempts) of each Poisson arrival at `rate` for `seconds`, each photo its own client
    that retries 429s, 503s and lost connections as the worker's does; the time is inf for a photo the client
    gave up on.

    This is a synchronous call through the OpenFaaS gateway: nothing queues, a busy pod refuses at
    once, and the caller's own retries are the wait (harness/retrying.py models it). A wrong answer
    (a bad cut-out, any other status) ends the run with an error: it would make the times meaningless.
    """
    rng = random.Random(seed)
    times: list[tuple[float, int]] = []
    wrong: list[str] = []
    lock = threading.Lock()

    def photo(index: int, arrival: float) -> None:
        jitter = random.Random(seed * 1_000_003 + index)
        waited, attempt = math.inf, 0
        with requests.Session() as session:
            for attempt in range(1, retries.max_attempts + 1):
                left = retries.deadline_s - (time.monotonic() - arrival)
                try:
                    response = session.post(url, data=shot.body, timeout=max(0.001, left))
                except requests.RequestException:
                    status, after = None, None
                else:
                    status, after = response.status_code, retry_after_s(response.headers.get("Retry-After"))
                if status == 200:
                    if not check(shot, response):
                        with lock:
                            wrong.append(f"{shot.name}: a wrong cut-out")
                    waited = time.monotonic() - arrival
                    break
                if status not in (429, 503, None):
                    with lock:
                        wrong.append(f"{shot.name}: {status} {response.text[:200]}")
                    break
                delay = retries.delay_s(attempt, after, jitter.random())
                if not retries.tries_again(attempt, time.monotonic() - arrival, delay):
                    break
                time.sleep(delay)
        with lock:
            times.append((waited, attempt))

    threads, deadline, at = [], time.monotonic() + seconds, time.monotonic() + 0.5
    while at < deadline:
        time.sleep(max(0.0, at - time.monotonic()))
        thread = threading.Thread(target=photo, args=(len(threads), at), daemon=True)
        thread.start()
        threads.append(thread)
        at += rng.expovariate(rate)
    for thread in threads:
        thread.join(retries.deadline_s + 10)
    if wrong:
        raise RuntimeError(f"{len(wrong)} wrong answers, the first: {wrong[0]}")
    return times


class Prober(threading.Thread):
    """GET /_/health every PROBE_INTERVAL_S until stopped: (seconds, status) of each."""

    def __init__(self, base_url: str) -> None:
        super().__init__(daemon=True)
        self.url = base_url.rstrip("/") + "/_/health"
        self.results: list[tuple[float, int | None]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                status: int | None = requests.get(self.url, timeout=5).status_code
            except requests.RequestException:
                status = None
            self.results.append((time.monotonic() - started, status))
            self.stop_event.wait(PROBE_INTERVAL_S)

    def stop(self) -> list[tuple[float, int | None]]:
        self.stop_event.set()
        self.join(10)
        return self.results


class MemorySampler(threading.Thread):
    """The process's resident memory (VmRSS, bytes) every SAMPLE_INTERVAL_S: (monotonic time, bytes)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.status = Path(f"/proc/{pid}/status")
        self.samples: list[tuple[float, int]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                text = self.status.read_text()
            except OSError:
                return
            for line in text.splitlines():
                if line.startswith("VmRSS:"):
                    self.samples.append((time.monotonic(), int(line.split()[1]) * 1024))
            self.stop_event.wait(SAMPLE_INTERVAL_S)

    def stop(self) -> list[tuple[float, int]]:
        self.stop_event.set()
        self.join(10)
        return self.samples


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (0..1) by the inclusive method; nan for no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def summary(outcomes: list[Outcome], when: Callable[[Outcome], bool] = lambda _: True) -> dict:
    chosen = [outcome for outcome in outcomes if when(outcome)]
    served = [outcome.seconds for outcome in chosen if outcome.status == 200]
    statuses: dict[str, int] = {}
    for outcome in chosen:
        key = str(outcome.status) if outcome.status is not None else f"no answer ({outcome.error})"
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "requests": len(chosen),
        "statuses": statuses,
        "incorrect": sum(not outcome.correct for outcome in chosen),
        "served": len(served),
        "p50_s": percentile(served, 0.5),
        "p95_s": percentile(served, 0.95),
        "max_s": max(served, default=float("nan")),
    }
