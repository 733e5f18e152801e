"""Synchronous calls with client retries: what a photo waits where nothing queues in front of the pods.

A synchronous call through the OpenFaaS gateway (CE and Standard) goes to one pod; a pod with
MAX_INFLIGHT=1 that is busy answers 429 with Retry-After: 1 at once, the gateway passes it back, and
the worker's client waits and tries again on its schedule (harness/retries.py). So the pool is a loss
system (c servers, no queue) whose refused photos come back later, and the time to a cut-out is the
service time plus every wait before the attempt that got a pod. No closed form covers the retries, so
this is a seeded discrete-event simulation: Poisson arrivals, service times drawn from the measured
ones, the client's exact backoff. Without retries it is Erlang B (harness/queueing.erlang_b), and where
refusals are rare it is the M/G/c figure; tests/harness/test_retrying.py holds it to both.

Which pod an attempt reaches matters as much as how many there are: faas-netes picks a uniformly random
ready endpoint for each call (pkg/k8s/proxy.go, `rand.Intn`; the OpenFaaS docs' troubleshooting page:
"balance calls randomly between replicas"), blind to whether it is busy, so an attempt is refused when
its pod is busy even if another is free (Routing.RANDOM: c independent one-slot systems). ANY_FREE is a
router that knows which pods are free (Erlang B's assumption), the best any router can do.
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from harness.retries import RETRY_AFTER_S, ClientRetries

PHOTOS = 20_000
WARM_UP_SHARE = 0.02  # the first photos meet an empty pool: left out of the figures
_DONE, _ATTEMPT = 0, 1  # at the same instant a pod frees before an attempt looks at it


class Routing(Enum):
    RANDOM = "random"  # faas-netes: a random ready pod per call, busy or not
    ANY_FREE = "any free"  # a router that sends to a free pod whenever there is one


@dataclass(frozen=True)
class SyncCalls:
    """What the photos of one simulated run waited, warm-up left out."""

    times_s: tuple[float, ...]  # arrival to cut-out per photo; inf: the client gave up (a miss)
    first_refused: int  # photos whose first attempt was refused
    attempts: int

    @property
    def photos(self) -> int:
        return len(self.times_s)

    @property
    def p95_s(self) -> float:
        """The p95 time to a cut-out, a missed photo counted as never (inf when more than 5 % miss)."""
        return nearest_rank(self.times_s, 0.95)

    @property
    def mean_s(self) -> float:
        """The mean time to a cut-out of the photos served."""
        served = [t for t in self.times_s if math.isfinite(t)]
        return statistics.fmean(served) if served else math.inf

    @property
    def missed_share(self) -> float:
        return sum(not math.isfinite(t) for t in self.times_s) / self.photos

    @property
    def first_refused_share(self) -> float:
        return self.first_refused / self.photos


def nearest_rank(values: Sequence[float], share: float) -> float:
    """The `share` quantile by nearest rank: a value that was seen, and inf counts (a miss is a time too)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True)
class Band:
    """Where a figure measured on a few real photos should fall if the simulated run is right."""

    low: float
    high: float

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high


def bands(model: SyncCalls, photos: int, slack_s: float) -> dict[str, Band]:
    """The p95, the mean and the share of first tries refused, each with what `photos` photos can pin down.

    A measured p95 is the k-th smallest of n times, k = ⌈0.95·n⌉, and it lies below the model's
    q-quantile exactly when at least k of the n fall below it: a binomial count. So 95 % of runs put it
    between the model's quantiles at the q where that chance is 2.5 % and 97.5 % (exact, where a normal
    approximation fails for the few dozen photos a minute gives). A mean is within two standard errors of
    the model's; a share within two binomial standard deviations. `slack_s` widens the times for what the
    model leaves out (a refusal's own round trip, thread wake-ups, a CPU shared with other work).
    """
    served = [t for t in model.times_s if math.isfinite(t)]
    mean_error = 2 * statistics.pstdev(served) / math.sqrt(photos) + slack_s
    share = model.first_refused_share
    share_error = 2 * math.sqrt(share * (1 - share) / photos)
    return {
        "p95_s": Band(
            nearest_rank(model.times_s, _share_at(photos, 0.025)) - slack_s,
            nearest_rank(model.times_s, _share_at(photos, 0.975)) + slack_s,
        ),
        "mean_s": Band(model.mean_s - mean_error, model.mean_s + mean_error),
        "first_refused": Band(share - share_error, share + share_error),
    }


def _share_at(photos: int, chance: float) -> float:
    """The q at which the p95 of `photos` draws falls below the q-quantile with `chance`: P(Bin(n, q) ≥ k)."""
    rank = math.ceil(0.95 * photos)

    def below(q: float) -> float:
        return sum(math.comb(photos, i) * q**i * (1 - q) ** (photos - i) for i in range(rank, photos + 1))

    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if below(middle) < chance else (low, middle)
    return high


def simulate(
    samples: Sequence[float],
    servers: int,
    rate_per_s: float,
    *,
    routing: Routing,
    retries: ClientRetries,
    photos: int = PHOTOS,
    seed: int = 0,
    retry_after_s: float = RETRY_AFTER_S,
) -> SyncCalls:
    """`photos` Poisson arrivals at `rate_per_s` on `servers` one-slot pods, each retried as `retries` says.

    Arrivals, service times, jitter and routing draw from their own seeded streams, so runs that
    differ only in `servers` see the same photos at the same times (common random numbers): a
    comparison between pool sizes is not drowned in noise.
    """
    arrivals, services = _photos(samples, rate_per_s, photos, seed)
    jitter, route = random.Random(seed + 2), random.Random(seed + 3)
    busy = [False] * servers
    times = [math.inf] * photos
    refused_first = [False] * photos
    attempts = 0
    events: list[tuple[float, int, int, int, int]] = [(arrivals[0], _ATTEMPT, 0, 0, 1)]
    order = 1
    while events:
        now, kind, _, photo, value = heapq.heappop(events)
        if kind == _DONE:
            busy[value] = False
            continue
        attempt = value
        attempts += 1
        if attempt == 1 and photo + 1 < photos:
            heapq.heappush(events, (arrivals[photo + 1], _ATTEMPT, order, photo + 1, 1))
            order += 1
        pod = _pod(routing, busy, route)
        if pod is not None:
            busy[pod] = True
            done = now + services[photo]
            heapq.heappush(events, (done, _DONE, order, photo, pod))
            order += 1
            if done - arrivals[photo] <= retries.deadline_s:  # past it the client has cut the attempt
                times[photo] = done - arrivals[photo]
            continue
        refused_first[photo] |= attempt == 1
        delay = retries.delay_s(attempt, retry_after_s, jitter.random())
        if retries.tries_again(attempt, now - arrivals[photo], delay):
            heapq.heappush(events, (now + delay, _ATTEMPT, order, photo, attempt + 1))
            order += 1
    kept = slice(int(photos * WARM_UP_SHARE), photos)
    return SyncCalls(tuple(times[kept]), sum(refused_first[kept]), attempts)


def _photos(samples: Sequence[float], rate_per_s: float, photos: int, seed: int) -> tuple[list[float], list[float]]:
    arrive, serve = random.Random(seed), random.Random(seed + 1)
    arrivals, at = [], 0.0
    for _ in range(photos):
        at += arrive.expovariate(rate_per_s)
        arrivals.append(at)
    return arrivals, [serve.choice(samples) for _ in range(photos)]


def _pod(routing: Routing, busy: list[bool], route: random.Random) -> int | None:
    """The pod this attempt gets, or None when it is refused."""
    if routing is Routing.ANY_FREE:
        return next((pod for pod, taken in enumerate(busy) if not taken), None)
    pod = route.randrange(len(busy))
    return None if busy[pod] else pod


def replicas_for(
    samples: Sequence[float], rate_per_hour: float, target_s: float, *, routing: Routing, retries: ClientRetries
) -> tuple[int, SyncCalls]:
    """The fewest pods whose p95 time to a cut-out is within `target_s`, and that run's figures."""
    for servers in range(1, 201):
        calls = simulate(samples, servers, rate_per_hour / 3600.0, routing=routing, retries=retries)
        if calls.p95_s <= target_s:
            return servers, calls
    raise ValueError("no replica count up to 200 meets the target")


def most_per_hour(
    samples: Sequence[float], servers: int, target_s: float, *, routing: Routing, retries: ClientRetries
) -> float:
    """The highest rate (photos an hour) `servers` pods serve at a p95 within `target_s`, to 1 %."""
    low, high = 0.0, servers * 3600.0 / statistics.fmean(samples)  # past the pods' own capacity: never
    while high - low > 0.01 * high:
        middle = (low + high) / 2
        calls = simulate(samples, servers, middle / 3600.0, routing=routing, retries=retries)
        low, high = (middle, high) if calls.p95_s <= target_s else (low, middle)
    return low
