"""The measurements: model time, latency, throughput; each returns plain numbers."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import requests

from bench.processes import Server

RETRY_PAUSE = 0.05  # a 429 is retried after this, as a gateway queue would


@dataclass(frozen=True)
class Latency:
    median: float
    p95: float
    output_bytes: int


@dataclass(frozen=True)
class Throughput:
    images_per_second: float
    retries: int
    p95: float  # seconds from an image's first attempt to its 200, retries included


def summarize(samples: list[float], output_bytes: int) -> Latency:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Latency(median=statistics.median(ordered), p95=p95, output_bytes=output_bytes)


def timed(call: Callable[[], bytes], repeat: int, warmup: int = 1) -> Latency:
    for _ in range(warmup):
        call()
    samples, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = len(call())
        samples.append(time.perf_counter() - started)
    return summarize(samples, size)


def model_time(session, repeat: int) -> float:
    """Median seconds of ONNX Runtime's session.run on a tensor of the model's input shape (320² or 1024²)."""
    feed = {
        one.name: np.random.default_rng(0)
        .normal(0, 1, [dim if isinstance(dim, int) else 1 for dim in one.shape])
        .astype(np.float32)
        for one in session.inner_session.get_inputs()
    }
    session.inner_session.run(None, feed)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        session.inner_session.run(None, feed)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def http_latency(server: Server, body: bytes, repeat: int) -> Latency:
    session = requests.Session()

    def call() -> bytes:
        response = server.post(session, body)
        response.raise_for_status()
        return response.content

    return timed(call, repeat)


def throughput(server: Server, body: bytes, clients: int, total: int) -> Throughput:
    """Images per second with `clients` concurrent clients sending `total` images in all."""
    remaining = [total]
    retries = [0]
    latencies: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            first_attempt = time.perf_counter()
            while True:
                response = server.post(session, body)
                if response.status_code == 200:
                    break
                if response.status_code != 429:
                    response.raise_for_status()
                with lock:
                    retries[0] += 1
                time.sleep(RETRY_PAUSE)
            with lock:
                latencies.append(time.perf_counter() - first_attempt)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    elapsed = time.perf_counter() - started
    return Throughput(images_per_second=total / elapsed, retries=retries[0], p95=summarize(latencies, 0).p95)
