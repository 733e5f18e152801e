"""The echo function: answers how many bytes it was sent, after ECHO_SECONDS (to hold a slot).

ECHO_START_SECONDS delays ready(); a bad number in either is a bad setting (ValueError);
ECHO_NEEDS names a file that must exist, as a model must (RuntimeError when it does not).
POST /boom fails the way a bug would; an empty body is the function's own 400.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def new() -> Echo:
    return Echo()


def _seconds(env: Mapping[str, str], name: str) -> float:
    raw = env.get(name, "0")
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected seconds") from None


class Echo:
    def __init__(self) -> None:
        self._ready = False
        self._seconds = 0.0

    def start(self, env: Mapping[str, str]) -> None:
        self._seconds = _seconds(env, "ECHO_SECONDS")
        start_seconds = _seconds(env, "ECHO_START_SECONDS")
        needs = env.get("ECHO_NEEDS")
        if needs and not Path(needs).exists():
            raise RuntimeError(f"{needs} is missing")
        time.sleep(start_seconds)
        self._ready = True

    def ready(self) -> bool:
        return self._ready

    def stop(self) -> None:
        log.info("echo stopped")

    def handle(self, event: Any, context: object) -> dict[str, Any]:
        if event.path == "/boom":
            raise ZeroDivisionError("a bug")
        if not event.body:
            body = {"error": {"status": 400, "code": "empty_body", "message": "send something"}}
            return {"statusCode": 400, "body": json.dumps(body), "headers": {"Content-Type": "application/json"}}
        time.sleep(self._seconds)
        return {
            "statusCode": 200,
            "body": json.dumps({"bytes": len(event.body), "path": event.path, "query": event.query}),
            "headers": {"Content-Type": "application/json", "X-Echo": "yes"},
        }
