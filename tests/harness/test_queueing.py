"""The queueing arithmetic behind `make capacity`, against values known in closed form."""

from __future__ import annotations

import math

import pytest

from harness.queueing import Service, erlang_b, erlang_c, p95_response, replicas_for, rub_per_1000


def test_erlang_c_known_values() -> None:
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: the chance to wait is the utilisation
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(10, 5.0) == pytest.approx(0.0361, abs=1e-4)


def test_erlang_b_known_values() -> None:
    assert erlang_b(1, 0.5) == pytest.approx(1 / 3)  # one slot: a / (1 + a)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_b(10, 5.0) == pytest.approx(0.01838, abs=1e-5)  # the standard tables' value
    assert erlang_b(100, 80.0) == pytest.approx(0.0040, abs=1e-4)  # no overflow where factorials would
    assert erlang_b(0, 3.0) == 1.0


def _exponential(mean: float, count: int = 4000) -> tuple[float, ...]:
    """Service times at evenly spaced quantiles of an exponential distribution."""
    return tuple(-mean * math.log(1 - (i + 0.5) / count) for i in range(count))


@pytest.mark.parametrize("rate", [0.2, 0.5, 0.8])
def test_m_m_1_p95_is_exact(rate: float) -> None:
    service = Service("m", (1, 1), _exponential(1.0))
    exact = math.log(20) / (1.0 - rate)  # M/M/1 response time is exponential with rate μ − λ
    assert p95_response(service, 1, rate) == pytest.approx(exact, rel=0.02)


def test_with_no_queue_the_p95_is_the_services() -> None:
    service = Service("m", (1, 1), tuple(0.5 + i / 1000 for i in range(100)))
    assert p95_response(service, 50, 0.01) == pytest.approx(service.p95_s, abs=0.002)


def test_replicas_grow_with_the_rate_and_never_saturate() -> None:
    service = Service("m", (1, 1), (0.4, 0.5, 0.6))
    counts = [replicas_for(service, rate, 3.0) for rate in (100, 5_000, 20_000, 100_000)]
    assert counts == sorted(counts) and counts[0] == 1
    for rate, servers in zip((100, 5_000, 20_000, 100_000), counts, strict=True):
        assert rate / 3600 < servers / service.mean_s
    assert p95_response(service, 1, 2.0) == math.inf


def test_cost_per_1000_images() -> None:
    service = Service("m", (1, 1), (0.5, 0.5))  # 7200 images an hour
    assert rub_per_1000(service, 1.0) == pytest.approx(800 / (7200 * 730 / 1000))
