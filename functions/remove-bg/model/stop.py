"""A model's run that another thread can end: the whole request's deadline reaches into ONNX Runtime.

rembg's sessions call their InferenceSession's run() without RunOptions, and only a run's own
RunOptions can end it (`terminate`, checked between the graph's nodes). So each session's
InferenceSession is wrapped once, at start, in one that runs with the options of the request in
work; a timer sets `terminate` when the deadline passes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import onnxruntime as ort

from ..deadline import Deadline
from ..errors import DeadlineExceeded

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession


class _Stoppable:
    """An InferenceSession whose run() takes the options set for the request in work."""

    def __init__(self, inner: ort.InferenceSession) -> None:
        self._inner = inner
        self.options: ort.RunOptions | None = None

    def run(self, output_names: Any, input_feed: Any, run_options: ort.RunOptions | None = None) -> Any:
        return self._inner.run(output_names, input_feed, run_options or self.options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def make_stoppable(session: BaseSession) -> None:
    if not isinstance(session.inner_session, _Stoppable):
        session.inner_session = _Stoppable(session.inner_session)


@contextmanager
def stopped_at(deadline: Deadline | None, sessions: Sequence[BaseSession], stage: str) -> Iterator[None]:
    """Runs of `sessions` inside end at `deadline` (None: no deadline) with DeadlineExceeded naming `stage`."""
    if deadline is None:
        yield
        return
    options = ort.RunOptions()
    for session in sessions:
        session.inner_session.options = options
    timer = threading.Timer(max(0.0, deadline.remaining()), _terminate, (options,))
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception:
        if options.terminate:
            raise DeadlineExceeded(stage, deadline.seconds) from None
        raise
    finally:
        timer.cancel()
        for session in sessions:
            session.inner_session.options = None


def _terminate(options: ort.RunOptions) -> None:
    options.terminate = True
