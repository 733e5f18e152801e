"""The server's Prometheus metrics, and the port they are served on (never the function's own).

Labels take only fixed values: a route the function declares or "other", a status the server
sends, an error code made of a code's characters or "other"; so no client can add series.
The function registers its own metrics in the same registry, and they are served here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics, start_http_server

# A request's whole time: tenths of a second for a thumbnail, up to the 60 s the design alerts on.
SECONDS_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0)
OTHER = "other"
# Counters' *_created series would double what is stored for nothing an alert or graph here reads.
disable_created_metrics()
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")

REQUESTS = Counter("remove_bg_requests", "Responses of the function's POST routes.", ["route", "status"])
ERRORS = Counter("remove_bg_errors", "Error responses, by the code in their JSON body.", ["code"])
REQUEST_SECONDS = Histogram("remove_bg_request_seconds", "Whole request, every status.", buckets=SECONDS_BUCKETS)
INFLIGHT = Gauge("remove_bg_inflight", "Requests in work now.")
MAX_INFLIGHT = Gauge("remove_bg_max_inflight", "Requests that may be in work at once (MAX_INFLIGHT).")
READY = Gauge("remove_bg_ready", "1 when health answers 200.")


class Routes:
    """The route label for a path: the path itself when the function declares it, else "other"."""

    def __init__(self, declared: Iterable[str]) -> None:
        self._declared = frozenset(declared)

    def label(self, path: str) -> str:
        return path if path in self._declared else OTHER


def code_label(code: str) -> str:
    return code if _CODE.fullmatch(code) else OTHER


def count(route: str, status: int, code: str | None, seconds: float) -> None:
    REQUESTS.labels(route=route, status=str(status)).inc()
    if code is not None:
        ERRORS.labels(code=code).inc()
    REQUEST_SECONDS.observe(seconds)


def watch(inflight: Callable[[], int], max_inflight: int, ready: Callable[[], bool]) -> None:
    """The gauges read the server's state when scraped, so they are never stale."""
    INFLIGHT.set_function(inflight)
    MAX_INFLIGHT.set(max_inflight)
    READY.set_function(lambda: 1.0 if ready() else 0.0)


def serve(host: str, port: int) -> None:
    """GET /metrics (the process collector's series included) on its own port and thread."""
    start_http_server(port, addr=host, registry=REGISTRY)
