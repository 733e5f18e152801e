"""waitress, serving until told to stop, with its own protocol errors in the function's JSON shape.

waitress refuses a body over max_request_body_size from its Content-Length before reading it; the
channel below makes that refusal (and its other 4xx) answer with the same JSON as the function.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask

from function.errors import JSON_TYPE, error_body

IDENT = "remove-bg"
WAITRESS_CODES = {
    400: "bad_request",
    413: "body_too_large",
    431: "headers_too_large",
    501: "not_implemented",
}
POLL_SECONDS = 1.0


class _JsonErrorTask(ErrorTask):
    def execute(self) -> None:
        error = self.request.error
        status = int(error.code)
        if status == 413:
            limit = self.channel.server.adj.max_request_body_size - 1
            message = f"the request body is over the limit of {limit} bytes (MAX_BODY_BYTES)"
        else:
            message = f"{error.reason}: {error.body}"
        body = error_body(status, WAITRESS_CODES.get(status, "internal"), message)
        self.status = f"{status} {error.reason}"
        self.response_headers.append(("Content-Type", JSON_TYPE))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _JsonErrorChannel(HTTPChannel):
    error_task_class = _JsonErrorTask


class _Server(TcpWSGIServer):
    channel_class = _JsonErrorChannel


class Server:
    """A waitress server on its own socket map, run by serve() until stop() is called."""

    def __init__(
        self,
        app: Callable[..., Any],
        *,
        host: str,
        port: int,
        threads: int,
        max_body_bytes: int,
        read_timeout: float,
    ) -> None:
        self._map: dict[int, Any] = {}
        self._stopping = threading.Event()
        self._wsgi = _Server(
            app,
            map=self._map,
            host=host,
            port=port,
            threads=threads,
            # waitress refuses a Content-Length >= this, so one more than the largest allowed body
            max_request_body_size=max_body_bytes + 1,
            # a connection idle (or a client silent mid-upload) this long is closed; waitress only
            # looks every cleanup_interval (30 s by default), so it looks at least that often
            channel_timeout=max(1, round(read_timeout)),
            cleanup_interval=max(1, min(30, round(read_timeout))),
            ident=IDENT,
        )

    @property
    def port(self) -> int:
        return int(self._wsgi.effective_port)

    def serve(self) -> None:
        while not self._stopping.is_set():
            wasyncore.loop(timeout=POLL_SECONDS, map=self._map, use_poll=True, count=1)
        self._wsgi.task_dispatcher.shutdown()
        wasyncore.close_all(self._map)

    def stop(self) -> None:
        """Make serve() return; safe from any thread."""
        self._stopping.set()
        self._wsgi.pull_trigger()

    def flushed(self) -> bool:
        """True when no connection has a request in work or a response still to send."""
        channels = [c for c in list(self._map.values()) if isinstance(c, HTTPChannel)]
        return all(not c.requests and not c.total_outbufs_len for c in channels)
