"""Queueing arithmetic for capacity plans: how many replicas a rate needs at a p95 target, and at what cost.

Where the platform queues requests in front of the pods (Knative's activator and queue-proxy,
OpenFaaS' queue-worker for async calls), a replica pool is an M/G/c queue: an arrival waits with the Erlang C
probability, its wait is exponential with M/M/c's rate cμ − λ slowed by (1 + Cs²) / 2 for service
times that are not exponential (the Allen–Cunneen approximation), and the response time is that
wait plus a service time drawn from the measured ones; its p95 is found by bisection. For M/M/c
this is exact. Where nothing queues (a synchronous call through the OpenFaaS gateway: a busy pod
answers 429 at once), the pool is a loss system (Erlang B, below) and the client's retries are what
the caller waits for: harness/retrying.py.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from harness.load import percentile

# The design document's figures: a 2-CPU / 2 GB container at about 800 ₽ a month.
RUB_PER_REPLICA_MONTH = 800.0
HOURS_PER_MONTH = 730.0


@dataclass(frozen=True)
class Service:
    model: str
    size: tuple[int, int]
    samples: tuple[float, ...]  # measured service times, seconds

    @property
    def mean_s(self) -> float:
        return statistics.fmean(self.samples)

    @property
    def p95_s(self) -> float:
        return percentile(list(self.samples), 0.95)

    @property
    def cv2(self) -> float:
        """Squared coefficient of variation of the service time."""
        return statistics.pvariance(self.samples) / self.mean_s**2

    @property
    def per_hour(self) -> float:
        return 3600.0 / self.mean_s


def erlang_b(servers: int, offered: float) -> float:
    """The chance an arrival finds all `servers` busy in a loss system (no queue) offered `offered` erlangs.

    Erlang's loss formula holds for any service-time distribution with that mean (it is insensitive),
    which is why the measured service times need only their mean here. By the recursion
    B(k) = a·B(k−1) / (k + a·B(k−1)), which stays finite where the factorials would not.
    """
    blocked = 1.0
    for k in range(1, servers + 1):
        blocked = offered * blocked / (k + offered * blocked)
    return blocked


def erlang_c(servers: int, offered: float) -> float:
    """The chance an arrival waits in M/M/c with `offered` = λ/μ erlangs (< servers)."""
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term *= offered / k
        total += term
    last = term * offered / servers / (1 - offered / servers)
    return last / (total + last)


def p95_response(service: Service, servers: int, rate_per_s: float) -> float:
    """Estimated p95 of wait + service for M/G/c; inf when the replicas cannot keep up."""
    mu = 1.0 / service.mean_s
    offered = rate_per_s / mu
    if offered >= servers:
        return math.inf
    waits = erlang_c(servers, offered)
    wait_rate = (servers * mu - rate_per_s) / ((1.0 + service.cv2) / 2.0)

    def beyond(t: float) -> float:
        """P(wait + service > t), the service time taken from the measured ones."""
        total = 0.0
        for s in service.samples:
            total += 1.0 if s > t else waits * math.exp(-wait_rate * (t - s))
        return total / len(service.samples)

    low, high = 0.0, max(service.samples) + 50.0 / wait_rate
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if beyond(middle) > 0.05 else (low, middle)
    return high


def replicas_for(service: Service, rate_per_hour: float, target_s: float) -> int:
    servers = 1
    while p95_response(service, servers, rate_per_hour / 3600.0) > target_s:
        servers += 1
        if servers > 1000:
            raise ValueError("no replica count meets the target")
    return servers


def rub_per_1000(service: Service, utilisation: float) -> float:
    return RUB_PER_REPLICA_MONTH / (service.per_hour * HOURS_PER_MONTH * utilisation / 1000.0)
