"""Progress of the long build steps (fetching, calibrating, checking): a bar on a terminal, plain lines in a log.

Quantizing a model takes from half a minute (u2net) to a few minutes (ISNet) on 2 CPUs, and a
newcomer's `make serve` waited through it in silence. On a terminal tqdm draws a bar with the
step, the count and an estimate of the time left; where stderr is not a terminal (CI, a Docker
build, a file) a bar's carriage returns make an unreadable log, so each item gets one log line
with the same facts instead. Either goes to stderr: stdout stays the commands' answer (a path, or
the settings a Makefile reads from it).
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from typing import TypeVar

from tqdm import tqdm

log = logging.getLogger(__name__)

Item = TypeVar("Item")
LINE_EVERY = 5.0  # seconds between a log's plain lines for one step: its start, then this often, then its end


def on_terminal() -> bool:
    return sys.stderr.isatty()


def shown(items: Sequence[Item], what: str, unit: str) -> Iterator[Item]:
    """`items`, one at a time, with the progress of `what` over them shown as it goes."""
    if on_terminal():
        yield from tqdm(items, desc=what, unit=f" {unit}", file=sys.stderr, leave=False, dynamic_ncols=True)
        log.info("%s: %d %s done", what, len(items), unit)
        return
    started = said = time.monotonic()
    for done, item in enumerate(items):
        if done == 0 or time.monotonic() - said >= LINE_EVERY:
            log.info("%s: %d/%d %s%s", what, done + 1, len(items), unit, _left(started, done, len(items)))
            said = time.monotonic()
        yield item
    log.info("%s: %d %s done in %.0f s", what, len(items), unit, time.monotonic() - started)


def _left(started: float, done: int, total: int) -> str:
    if done == 0:
        return ""
    spent = time.monotonic() - started
    return f", {spent:.0f} s so far, about {spent / done * (total - done):.0f} s left"


@contextlib.contextmanager
def step(what: str) -> Iterator[None]:
    """One step without a count of its own: a line when it starts and one with its time when it ends."""
    log.info("%s ...", what)
    started = time.monotonic()
    with quiet():
        yield
    log.info("%s: done in %.1f s", what, time.monotonic() - started)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """What a library prints to stdout meanwhile (ONNX Runtime's quantizer prints a line per calibration input),
    kept out of stdout, where a Makefile's `$(...)` took it for its answer, and logged at debug level."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            yield
    finally:
        for line in printed.getvalue().splitlines():
            log.debug("%s", line)
