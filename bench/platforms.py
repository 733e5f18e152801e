"""Which capacity figure holds on which platform, and the replicas each platform needs: part of `make capacity`.

- Knative, and OpenFaaS async calls: a queue sits in front of the pods, so the pool is M/G/c
  (harness/queueing.py). On Knative the activator stays in the path while spare capacity is under
  target-burst-capacity (211 by default, config/core/configmaps/autoscaler.yaml; a pool of ≤ 20 one-slot
  pods never has that much), queues up to 10,000 requests (pkg/activator/net/throttler.go,
  breakerQueueDepth) and sends each to the first free pod when containerConcurrency ≤ 3
  (firstAvailableLBPolicy); each pod's queue-proxy holds 10 × containerConcurrency more
  (pkg/queue/sharedmain/main.go buildBreaker) and answers 503 past that (pkg/queue/handler.go). An
  OpenFaaS async call waits in NATS until the queue-worker sends it.
- OpenFaaS sync calls, Standard and CE: nothing queues. The gateway's provider sends each call to a
  random ready pod (faas-netes pkg/k8s/proxy.go), a busy pod answers 429 with Retry-After: 1, and the
  worker's client retries (harness/retrying.py). Standard's capacity autoscaling adds pods as they
  fill, so it runs the count a rate needs; CE does not scale this function (its alert wants more than
  5 calls a second, a pod serves under 2), so it runs a fixed count, at most 5 (faas-netes
  pkg/handlers/replica_reader.go MaxReplicas).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from harness.queueing import Service, erlang_b
from harness.queueing import replicas_for as queued_replicas_for
from harness.retries import NO_RETRIES, ClientRetries
from harness.retrying import Routing, most_per_hour, simulate
from harness.retrying import replicas_for as sync_replicas_for

CE_MOST_REPLICAS = 5
# The rate stack.yml's fixed CE replicas are for, on each tier: the design document's top monthly volume
# (1,000 images a month) arriving within one hour, the burst a month's traffic could make.
CE_RATE_PER_HOUR = float(os.environ.get("CE_RATE_PER_HOUR", "1000"))
SYNC = Routing.RANDOM  # what faas-netes does
RETRIES = ClientRetries()


def by_platform(services: list[Service], rates: tuple[int, ...], target_of: Callable[[Service], float]) -> list[dict]:
    """Per model and rate: replicas queued (Knative, OpenFaaS async) and sync with retries (OpenFaaS)."""
    rows = []
    for service in services:
        target = target_of(service)
        for rate in rates:
            servers, calls = sync_replicas_for(service.samples, rate, target, routing=SYNC, retries=RETRIES)
            rows.append(
                {
                    "model": service.model,
                    "target_s": target,
                    "per_hour": rate,
                    "queued_replicas": queued_replicas_for(service, rate, target),
                    "sync_replicas": servers,
                    "sync_p95_s": calls.p95_s,
                    "sync_mean_s": calls.mean_s,
                    "sync_first_refused": calls.first_refused_share,
                    "sync_missed": calls.missed_share,
                }
            )
    return rows


def community(services: list[Service], target_of: Callable[[Service], float]) -> list[dict]:
    """Per model: CE's fixed replicas for CE_RATE_PER_HOUR, and the most CE's 5 replicas serve at the target."""
    rows = []
    for service in services:
        target = target_of(service)
        servers, calls = sync_replicas_for(service.samples, CE_RATE_PER_HOUR, target, routing=SYNC, retries=RETRIES)
        rate_per_s = CE_RATE_PER_HOUR / 3600.0
        bare = simulate(service.samples, servers, rate_per_s, routing=SYNC, retries=NO_RETRIES)
        rows.append(
            {
                "model": service.model,
                "per_hour": CE_RATE_PER_HOUR,
                "target_s": target,
                "replicas": servers,
                "fits_ce": servers <= CE_MOST_REPLICAS,
                "p95_s": calls.p95_s,
                "mean_s": calls.mean_s,
                "first_refused": calls.first_refused_share,
                "refused_no_retries": bare.first_refused_share,
                # a random pod per call: each pod a one-slot loss system offered its share of the load
                "erlang_b_no_retries": erlang_b(1, rate_per_s * service.mean_s / servers),
                "missed": calls.missed_share,
                "most_per_hour_on_5": most_per_hour(
                    service.samples, CE_MOST_REPLICAS, target, routing=SYNC, retries=RETRIES
                ),
            }
        )
    return rows


def report(rows: list[dict], ce: list[dict]) -> list[str]:
    lines = [
        "#### Which figure holds on which platform",
        "",
        "- Knative and OpenFaaS async calls: a queue in front of the pods, M/G/c (the table above; the "
        "column “queued” below).",
        "- OpenFaaS Standard, sync calls: capacity autoscaling runs the pods a rate needs; a busy pod answers "
        "429 at once, the gateway sends each call to a random pod, and the client retries "
        f"(Retry-After 1 s, then full jitter from {RETRIES.base_delay_s} s doubling, {RETRIES.max_attempts} "
        f"attempts, {RETRIES.deadline_s:.0f} s deadline): the column “sync”.",
        f"- OpenFaaS CE, sync calls: a fixed count (CE does not scale this function; at most {CE_MOST_REPLICAS}), "
        "the same retries: the last table.",
        "",
        "| model | p95 target s | images / hour | replicas, queued (M/G/c) | replicas, sync + retries | p95 s, sync "
        "| mean s, sync | first tries refused | missed (gave up) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['model']} | {r['target_s']:.1f} | {r['per_hour']:,} | {r['queued_replicas']} | {r['sync_replicas']} "
        f"| {r['sync_p95_s']:.2f} | {r['sync_mean_s']:.2f} | {r['sync_first_refused']:.1%} | {r['sync_missed']:.2%} |"
        for r in rows
    ]
    lines += [
        "",
        f"#### OpenFaaS CE: fixed replicas for {CE_RATE_PER_HOUR:,.0f} images an hour (sync, 429s retried)",
        "",
        "| model | p95 target s | replicas | p95 s | mean s | first tries refused | refused without retries: "
        f"simulated, Erlang B | missed | most images / hour on {CE_MOST_REPLICAS} replicas |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in ce:
        replicas = str(r["replicas"]) if r["fits_ce"] else f"CE cannot serve it ({r['replicas']} needed)"
        lines.append(
            f"| {r['model']} | {r['target_s']:.1f} | {replicas} | {r['p95_s']:.2f} | {r['mean_s']:.2f} "
            f"| {r['first_refused']:.1%} | {r['refused_no_retries']:.1%}, {r['erlang_b_no_retries']:.1%} "
            f"| {r['missed']:.2%} | {r['most_per_hour_on_5']:,.0f} |"
        )
    return lines
