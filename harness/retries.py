"""The TypeScript client's retry schedule, in Python, so the capacity model and the real check retry as the worker does.

clients/typescript/src/client.ts (DEFAULTS, withRetries) and backoff.ts (backoffDelay): attempt k that
fails with a retryable status waits max(jitter · min(maxDelay, base · 2^(k−1)), Retry-After), the jitter
uniform in [0, 1) and rounded to whole milliseconds; the client stops after maxAttempts attempts, or when
the wait would end at or after the call's deadline (counted from the call's start), and each attempt is
cut at that deadline. Our pod answers 429 with Retry-After: 1 when its one slot is taken, so every
refused photo waits at least a second. tests/harness/test_retries.py keeps these defaults equal to the
client's.
"""

from __future__ import annotations

from dataclasses import dataclass

RETRY_AFTER_S = 1.0  # what a busy pod says (template/python3-rembg/errors.py retry_after)


@dataclass(frozen=True)
class ClientRetries:
    base_delay_s: float = 0.5
    max_delay_s: float = 10.0
    max_attempts: int = 6
    deadline_s: float = 120.0

    def delay_s(self, attempt: int, retry_after_s: float | None, draw: float) -> float:
        """The wait after failed attempt `attempt` (1 is the first); `draw` is the jitter, uniform in [0, 1)."""
        cap = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return max(round(draw * cap * 1000) / 1000, retry_after_s or 0.0)

    def tries_again(self, attempt: int, elapsed_s: float, delay_s: float) -> bool:
        """Whether the client makes another attempt after failed attempt `attempt`, `elapsed_s` into the call."""
        return attempt < self.max_attempts and elapsed_s + delay_s < self.deadline_s


NO_RETRIES = ClientRetries(max_attempts=1)


def retry_after_s(value: str | None) -> float | None:
    """Retry-After in delay-seconds, as our pod sends it; None when absent or not a number of seconds."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None
