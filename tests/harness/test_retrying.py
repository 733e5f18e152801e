"""The sync-with-retries simulation against what is known in closed form: Erlang B, the M/G/c queue, the schedule."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from harness.queueing import Service, erlang_b, p95_response
from harness.retries import NO_RETRIES, ClientRetries
from harness.retrying import Routing, bands, most_per_hour, nearest_rank, replicas_for, simulate

PHOTOS = 40_000


def _exponential(mean: float, count: int = 4000) -> tuple[float, ...]:
    return tuple(-mean * math.log(1 - (i + 0.5) / count) for i in range(count))


def _binomial_slack(share: float, photos: int) -> float:
    """Four standard deviations of a share measured on `photos` photos (a false failure: 1 in 15,000)."""
    return 4 * math.sqrt(share * (1 - share) / photos)


@pytest.mark.parametrize(("servers", "offered"), [(1, 0.5), (3, 2.0), (5, 3.0)])
@pytest.mark.parametrize("samples", [_exponential(1.0), (1.0,)], ids=["exponential", "constant"])
def test_without_retries_a_router_to_any_free_pod_is_erlang_b(
    servers: int, offered: float, samples: tuple[float, ...]
) -> None:
    calls = simulate(samples, servers, offered, routing=Routing.ANY_FREE, retries=NO_RETRIES, photos=PHOTOS)
    expected = erlang_b(servers, offered)  # the same for both distributions: Erlang B is insensitive
    assert calls.first_refused_share == pytest.approx(expected, abs=_binomial_slack(expected, calls.photos))
    assert calls.missed_share == calls.first_refused_share  # no retries: refused is missed


@pytest.mark.parametrize(("servers", "offered"), [(2, 1.0), (5, 3.0)])
def test_without_retries_random_routing_is_one_slot_erlang_b_per_pod(servers: int, offered: float) -> None:
    calls = simulate(_exponential(1.0), servers, offered, routing=Routing.RANDOM, retries=NO_RETRIES, photos=PHOTOS)
    expected = erlang_b(1, offered / servers)  # a random split of Poisson arrivals is Poisson at each pod
    assert calls.first_refused_share == pytest.approx(expected, abs=_binomial_slack(expected, calls.photos))


@pytest.mark.parametrize("routing", list(Routing))
def test_where_refusals_are_rare_it_is_the_queued_figure(routing: Routing) -> None:
    service = Service("m", (1, 1), tuple(0.5 + i / 1000 for i in range(100)))
    calls = simulate(service.samples, 40, 0.2, routing=routing, retries=ClientRetries())
    assert calls.first_refused_share < 0.005 and calls.missed_share == 0
    assert calls.p95_s == pytest.approx(p95_response(service, 40, 0.2), rel=0.02)


@pytest.mark.parametrize("routing", list(Routing))
def test_more_replicas_are_never_worse(routing: Routing) -> None:
    samples = (0.45, 0.5, 0.55, 0.6, 0.9)
    runs = [simulate(samples, servers, 3.0, routing=routing, retries=ClientRetries()) for servers in range(1, 8)]
    for fewer, more in itertools.pairwise(runs):
        assert more.p95_s <= fewer.p95_s
        assert more.mean_s <= fewer.mean_s
        assert more.missed_share <= fewer.missed_share
    assert runs[0].missed_share > 0.1 and runs[-1].missed_share < 0.001


def test_a_router_that_knows_the_free_pods_refuses_less_than_random() -> None:
    samples = (0.5,)
    best = simulate(samples, 4, 4.0, routing=Routing.ANY_FREE, retries=ClientRetries())
    blind = simulate(samples, 4, 4.0, routing=Routing.RANDOM, retries=ClientRetries())
    assert best.first_refused_share < blind.first_refused_share
    assert best.p95_s < blind.p95_s


def test_a_refused_photo_waits_retry_after_each_time_and_stops_on_the_schedule() -> None:
    """Retry-After longer than any jitter cap makes every wait exactly 20 s: a cut-out comes at 0.4 + 20k s."""
    retries = ClientRetries(max_attempts=6, deadline_s=90.0)
    calls = simulate((0.4,), 1, 2.0, routing=Routing.RANDOM, retries=retries, retry_after_s=20.0)
    waits = {round((t - 0.4) / 20, 6) for t in calls.times_s if math.isfinite(t)}
    assert waits == {0, 1, 2, 3, 4}  # the fifth retry would end at 100 s, past the 90 s deadline
    assert calls.missed_share > 0
    longer = ClientRetries(max_attempts=6, deadline_s=120.0)
    calls = simulate((0.4,), 1, 2.0, routing=Routing.RANDOM, retries=longer, retry_after_s=20.0)
    assert {round((t - 0.4) / 20, 6) for t in calls.times_s if math.isfinite(t)} == {0, 1, 2, 3, 4, 5}


def test_replicas_and_the_most_a_pool_serves_agree() -> None:
    samples = (0.45, 0.5, 0.55, 0.6)
    most = most_per_hour(samples, 3, 3.0, routing=Routing.RANDOM, retries=ClientRetries())
    assert 0 < most < 3 * 3600 / 0.525
    assert replicas_for(samples, most, 3.0, routing=Routing.RANDOM, retries=ClientRetries())[0] <= 3
    assert replicas_for(samples, most * 1.25, 3.0, routing=Routing.RANDOM, retries=ClientRetries())[0] > 3


@pytest.mark.parametrize("photos", [12, 40, 150])
def test_a_p95_from_a_few_photos_falls_in_its_band_in_95_percent_of_runs(photos: int) -> None:
    """Photos drawn from the model's own run stand in for a real check that agrees with the model."""
    model = simulate((0.45, 0.5, 0.55, 0.6), 1, 0.6, routing=Routing.RANDOM, retries=ClientRetries())
    band = bands(model, photos, slack_s=0.0)["p95_s"]
    draw = random.Random(7)
    runs = [nearest_rank(draw.choices(model.times_s, k=photos), 0.95) for _ in range(1000)]
    coverage = sum(band.holds(p95) for p95 in runs) / len(runs)
    assert 0.93 <= coverage <= 0.995  # at least the 95 % promised (the model's steps make it a little more)


def test_the_bands_narrow_with_more_photos() -> None:
    model = simulate((0.45, 0.5, 0.55, 0.6), 1, 0.6, routing=Routing.RANDOM, retries=ClientRetries())
    few, many = bands(model, 20, 0.1), bands(model, 500, 0.1)
    for name in ("p95_s", "mean_s", "first_refused"):
        assert many[name].high - many[name].low < few[name].high - few[name].low
        assert few[name].holds(many[name].low) and few[name].holds(many[name].high)


def test_a_cutout_after_the_deadline_is_a_miss() -> None:
    """The client cuts each attempt at the call's deadline: a pod that answers later serves no one."""
    calls = simulate((5.0,), 2, 0.01, routing=Routing.ANY_FREE, retries=ClientRetries(deadline_s=3.0), photos=200)
    assert calls.missed_share == 1.0
    calls = simulate((5.0,), 2, 0.01, routing=Routing.ANY_FREE, retries=ClientRetries(deadline_s=6.0), photos=200)
    assert calls.missed_share == 0.0
