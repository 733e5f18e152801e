"""The whole request's deadline: decode, the model's run and the output, each stopped once it is past."""

from __future__ import annotations

import time

from .errors import DeadlineExceeded


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def check(self, stage: str) -> None:
        """DeadlineExceeded, naming `stage`, once the deadline has passed."""
        if self.remaining() <= 0:
            raise DeadlineExceeded(stage, self.seconds)
