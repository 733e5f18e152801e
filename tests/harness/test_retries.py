"""The client's retry schedule in Python: the same defaults and the same waits as clients/typescript."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.retries import ClientRetries, retry_after_s

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript" / "src" / "client.ts"


def test_the_defaults_are_the_clients() -> None:
    block = re.search(r"const DEFAULTS = \{([^}]*)\}", CLIENT.read_text())
    assert block, "client.ts has no DEFAULTS"
    ts = {name: float(value.replace("_", "")) for name, value in re.findall(r"(\w+): ([\d_]+)", block[1])}
    retries = ClientRetries()
    assert retries.deadline_s * 1000 == ts["deadlineMs"]
    assert retries.max_attempts == ts["maxAttempts"]
    assert retries.base_delay_s * 1000 == ts["baseDelayMs"]
    assert retries.max_delay_s * 1000 == ts["maxDelayMs"]


@pytest.mark.parametrize(
    ("attempt", "retry_after", "draw", "delay"),
    [
        (1, 1.0, 0.999, 1.0),  # the first cap is 0.5 s: Retry-After wins
        (3, 1.0, 0.75, 1.5),  # cap 2 s
        (4, None, 0.5, 2.0),  # cap 4 s
        (5, 1.0, 0.1, 1.0),
        (9, None, 0.5, 5.0),  # cap 10 s, not 128 s
        (2, None, 0.12345, 0.123),  # whole milliseconds, as Math.round does
    ],
)
def test_the_wait_is_full_jitter_never_under_retry_after(
    attempt: int, retry_after: float | None, draw: float, delay: float
) -> None:
    assert ClientRetries().delay_s(attempt, retry_after, draw) == pytest.approx(delay)


def test_it_stops_after_the_last_attempt_or_at_the_deadline() -> None:
    retries = ClientRetries(max_attempts=3, deadline_s=10.0)
    assert retries.tries_again(2, 1.0, 1.0)
    assert not retries.tries_again(3, 1.0, 1.0)  # three attempts made
    assert not retries.tries_again(1, 9.0, 1.0)  # the wait would end at the deadline


def test_retry_after_in_seconds() -> None:
    assert retry_after_s("1") == 1.0
    assert retry_after_s(None) is None
    assert retry_after_s("soon") is None
    assert retry_after_s("-1") is None
