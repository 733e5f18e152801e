"""One process's life: loading → ready → draining, and the limit on requests in work at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

OK = (200, "OK")
LOADING = (503, "loading")
DRAINING = (503, "draining")
AT_LIMIT = (429, "at the in-flight limit")


class Lifecycle:
    def __init__(self, max_inflight: int, function_ready: Callable[[], bool]) -> None:
        self.max_inflight = max_inflight
        self._inflight = 0
        self._function_ready = function_ready
        self._draining = False
        self._changed = threading.Condition()

    @property
    def ready(self) -> bool:
        return self._function_ready()

    @property
    def inflight(self) -> int:
        return self._inflight

    @property
    def draining(self) -> bool:
        return self._draining

    def start_draining(self) -> bool:
        """Stop taking work; False if draining had already started."""
        with self._changed:
            started, self._draining = not self._draining, True
            return started

    def try_enter(self) -> bool:
        """Take an in-flight slot if one is free; never waits."""
        with self._changed:
            if self._inflight >= self.max_inflight:
                return False
            self._inflight += 1
            return True

    def leave(self) -> None:
        with self._changed:
            self._inflight -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is in work; False if `timeout` seconds passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._inflight == 0, timeout)

    def health(self) -> tuple[int, str]:
        """/_/health: 200 once the function is ready and work is accepted, else 503."""
        if self._draining:
            return DRAINING
        if not self._function_ready():
            return LOADING
        return OK

    def liveness(self) -> tuple[int, str]:
        """/_/live: 200 while this process answers at all, loading and draining included.

        A platform restarts a pod whose liveness probe fails. Kubernetes runs that probe from the pod's
        start, and a first start from a cold disk (tens of seconds) would be killed and started again
        cold if liveness were health's "is the model loaded"; a draining pod would be cut short.
        """
        return OK

    def readiness(self) -> tuple[int, str]:
        """/_/ready: as health, and 429 while every in-flight slot is taken."""
        status = self.health()
        if status == OK and self._inflight >= self.max_inflight:
            return AT_LIMIT
        return status
