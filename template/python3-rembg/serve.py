"""waitress, serving until told to stop, with limits that no client can use to starve the probes.

waitress out of the box lets a client hold a connection for as long as it trickles bytes, stops
accepting (probes included) at its connection limit, buffers every body in full whatever the
others hold, and closes at once after refusing a body, so a client still sending reads a reset
instead of the refusal. The channel and server below change exactly that:

- a whole request must arrive within `read_timeout` of its first byte (Go's ReadTimeout, which
  OpenFaaS' read_timeout sets), and an idle connection closes after it too;
- a POST, or any request with a body, is asked for its token (the `gate` the caller gives) as
  soon as its headers are in, before any of its body is buffered: a client without one is
  answered 401 and cannot hold the body buffer others need;
- a body arriving slower than `min_upload_rate` bytes a second, once `upload_grace` seconds
  have passed, is answered 408 and its share of the buffer freed: nginx's client_body_timeout,
  as a rate, so a trickle cannot hold the buffer for the whole read_timeout;
- at `max_connections`, a new connection is still accepted, and the connection that has been
  silent the longest (never one with a request in work) is closed for it, so a probe always gets
  in;
- the bodies being received at once may hold at most `max_buffered_bytes` (declared length, or
  the body limit for a chunked one); past that a request is refused with 429 before its body is read;
- a response never blocks the thread that wrote it (waitress makes it wait for the client once
  16 MB are unsent): it is kept in memory, and a connection whose response is not all sent within
  `send_timeout` is closed and its response dropped (nginx's send_timeout, as a deadline), as are
  the longest-waiting ones while more than `max_unsent_bytes` wait in all;
- when a connection closes after its response (a refusal, `Connection: close`, a body longer than
  declared), whatever the client still sends is read and dropped, up to the body limit and for at
  most LINGER_SECONDS, before it closes (a lingering close): closing with unread bytes resets the
  connection, and a client still sending then loses the response it was sent.

waitress's own errors answer in the JSON shape of the path asked for, with an X-Call-Id (and
Retry-After on a 429), as every other response has. And each turn of the loop dispatches a
socket's events only to the connection they were polled for: a connection closed while the poll
set is built frees its descriptor, and the next one accepted gets the same number. The classes subclassed here are
internal to waitress 3.0.2, which is pinned; tests/template/test_serve.py covers each behaviour.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import outcome
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError, split_uri
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask
from waitress.utilities import Error

from errors import ErrorBody, any_path_error_body, retry_after
from function.errors import JSON_TYPE

log = logging.getLogger("remove-bg.serve")

IDENT = "remove-bg"
WAITRESS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    408: "upload_too_slow",
    413: "body_too_large",
    429: "busy",
    431: "headers_too_large",
}
POLL_SECONDS = 1.0
# How often deadlines are checked; a probe's 1 s budget is the reason it is this short.
CHECK_SECONDS = 0.25
LINGER_SECONDS = 5.0
EVICTIONS_PER_WARNING = 100
OUTBUF_IN_MEMORY = 1 << 30  # larger than any response this server should send
MAX_REQUEST_LINE = 16384  # of a refused request, kept to say which route's error shape it gets
# Over max_unsent_bytes, a response younger than this is never the one dropped: any client that
# reads at all takes a whole cut-out well within it, from loopback or inside a cluster.
UNSENT_GRACE_SECONDS = 1.0


@dataclass(frozen=True)
class Refused:
    """A request waitress answered itself, for the caller's metrics and log."""

    method: str
    path: str
    status: int
    code: str
    call_id: str
    seconds: float
    bytes_in: int
    bytes_out: int


@dataclass(frozen=True)
class Denied:
    """Why a request may not go on: the message and the WWW-Authenticate challenges of its 401."""

    message: str
    challenges: tuple[str, ...]


# method, path, headers (any case), whether a body follows → None to let the request through, or why not
Gate = Callable[[str, str, Mapping[str, str], bool], Denied | None]


def open_gate(method: str, path: str, headers: Mapping[str, str], body: bool) -> Denied | None:
    """The gate of a server without a token."""
    return None


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    max_buffered_bytes: int
    max_connections: int
    read_timeout: float  # seconds for a whole request to arrive, and for an idle connection
    min_upload_rate: int  # bytes a second a body must average once upload_grace has passed; 0: no floor
    upload_grace: float  # seconds from a body's headers before min_upload_rate applies
    send_timeout: float  # seconds for a response to be all sent once it is written
    max_unsent_bytes: int  # responses waiting for their clients, in all


class _UploadsFull(Error):
    code = 429
    reason = "Too Many Requests"


class _Unauthorized(Error):
    code = 401
    reason = "Unauthorized"

    def __init__(self, denied: Denied) -> None:
        super().__init__(denied.message)
        self.challenges = denied.challenges


class _UploadTooSlow(Error):
    code = 408
    reason = "Request Timeout"


class _Headers(Mapping[str, str]):
    """A request's headers as waitress keeps them (CONTENT_TYPE), read by their HTTP names (Content-Type)."""

    def __init__(self, parsed: dict[str, str]) -> None:
        self._parsed = parsed

    def __getitem__(self, name: str) -> str:
        return self._parsed[name.upper().replace("-", "_")]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed)

    def __len__(self) -> int:
        return len(self._parsed)


class _Request(HTTPRequestParser):
    """waitress's parser, which also takes its share of the body buffer when the headers are in."""

    def __init__(self, adj: Any, channel: _Channel) -> None:
        super().__init__(adj)
        self.started = time.time()
        self.reserved = 0
        self.body_started = 0.0  # when the headers were in and the body's share taken
        self.request_line = b""  # kept as it arrives: waitress forgets it when the headers are too large
        self._channel = channel

    def received(self, data: bytes) -> int:
        if not self.request_line and not self.headers_finished:
            line, found, _ = (self.header_plus + data).partition(b"\r\n")
            if found:
                self.request_line = line[:MAX_REQUEST_LINE]
        had_headers = self.headers_finished
        consumed = super().received(data)
        if self.headers_finished and not had_headers and self.error is None:
            self._admit()
        if self.error is not None and consumed < len(data):
            # The connection closes after the refusal: the rest of this read is the refused body, never a
            # request of its own to parse, admit and reserve a share for.
            return len(data)
        return consumed

    def _admit(self) -> None:
        """The token first, then the body's share of the buffer: a client without the token never holds any."""
        server = self._channel.server
        denied = server.gate(self.command, self.path, _Headers(self.headers), not self.completed)
        if denied is not None:
            self.error = _Unauthorized(denied)
            self.completed = True
            return
        if self.completed:
            return  # no body to buffer
        need = self.content_length if self.content_length > 0 else server.limits.max_body_bytes
        if server.reserve(self, need):
            self.reserved = need
            self.body_started = time.time()
        else:
            self.error = _UploadsFull("too many uploads in progress here")
            self.completed = True

    def too_slow(self, now: float, limits: Limits) -> bool:
        """Its body, past the grace, has averaged less than the minimum rate. A body waiting for the
        100 Continue only the server can send is not the client's delay."""
        elapsed = now - self.body_started
        if not self.reserved or self.completed or self.expect_continue or elapsed < limits.upload_grace:
            return False
        return self.body_bytes_received < limits.min_upload_rate * elapsed


class _JsonErrorTask(ErrorTask):
    def execute(self) -> None:
        error = self.request.error
        # RFC 9112 suggests 501 for a transfer coding the server does not know; here every 5xx
        # pages someone (monitoring counts them as the server's faults), and this one is the client's.
        status = 400 if int(error.code) == 501 else int(error.code)
        limits = self.channel.server.limits
        if status == 413:
            message = f"the request body is over the limit of {limits.max_body_bytes} bytes (MAX_BODY_BYTES)"
        elif status == 429:
            message = "too many uploads are in progress here; retry shortly"
        elif status == 408:
            message = (
                f"the request body arrived slower than {limits.min_upload_rate} bytes a second after"
                f" {limits.upload_grace:g} s (MIN_UPLOAD_BYTES_PER_SECOND); send it faster or closer to this server"
            )
        elif isinstance(error, _Unauthorized):
            message = error.body
            self.response_headers.extend(("WWW-Authenticate", challenge) for challenge in error.challenges)
        else:
            message = f"{error.reason}: {error.body}"
        code = WAITRESS_CODES.get(status, "internal")
        # A request refused while its request line was still unparsed has no method, path or headers yet.
        request = self.request
        method, path = _method_and_path(request)
        call_id = outcome.call_id((getattr(request, "headers", None) or {}).get("X_CALL_ID"))
        body = self.channel.server.error_body(path, status, code, message)
        self.status = f"{status} {HTTPStatus(status).phrase}"
        self.response_headers.append(("Content-Type", JSON_TYPE))
        self.response_headers.append(("X-Call-Id", call_id))
        if (seconds := retry_after(status)) is not None:
            self.response_headers.append(("Retry-After", seconds))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
        self.channel.server.on_refusal(
            Refused(
                method=method,
                path=path,
                status=status,
                code=code,
                call_id=call_id,
                seconds=time.time() - request.started,
                bytes_in=max(request.content_length, 0),
                bytes_out=len(body),
            )
        )


def _method_and_path(request: Any) -> tuple[str, str]:
    """What the refused request asked for, from its own request line: waitress puts `GET /` in place of a
    request whose headers are too large, and has neither for one whose request line did not parse."""
    parts = getattr(request, "request_line", b"").split(b" ")
    if len(parts) == 3 and parts[2].startswith(b"HTTP/"):
        try:
            return parts[0].decode("latin-1"), split_uri(parts[1])[2]
        except ParsingError:
            pass
    return "", ""


class _Channel(HTTPChannel):
    """A connection that reads and drops what the client still sends once its response is out."""

    error_task_class = _JsonErrorTask
    server: _Server

    def __init__(self, server: _Server, sock: socket.socket, addr: Any, adj: Any, map: Any = None) -> None:
        self._discard_left = server.limits.max_body_bytes
        self.lingering_since: float | None = None
        self.unsent_since = 0.0  # when its unsent output last grew from nothing
        self.parser_class = lambda adj: _Request(adj, self)  # type: ignore[assignment]
        super().__init__(server, sock, addr, adj, map)

    def busy(self) -> bool:
        """A request is in work or queued here, or a response is still being sent."""
        return bool(self.requests) or bool(self.total_outbufs_len)

    def readable(self) -> bool:
        return self.lingering_since is not None or super().readable()

    def write_soon(self, data: Any) -> int:
        with self.outbuf_lock:
            if data and not self.total_outbufs_len:
                self.unsent_since = time.time()
            return int(super().write_soon(data))

    def _flush_outbufs_below_high_watermark(self) -> None:
        """Never wait for the client: waitress blocks the task thread here until a client reads,
        so a few that never read would hold every thread, the probes' too. The response stays in
        memory instead, bounded by send_timeout and max_unsent_bytes (_Server.maintenance)."""

    def cut_slow_upload(self) -> None:
        """Answer the request whose body is still arriving with a 408 now, and free its share."""
        with self.requests_lock:
            request = self.request
            if request is None or self.requests:
                return
            request.error = _UploadTooSlow("the body arrived too slowly")
            request.completed = True
            request.reserved = 0
            self.request = None
            self.requests.append(request)
        self.server.add_task(self)

    def writable(self) -> bool:
        return self.lingering_since is None and bool(super().writable())

    def received(self, data: bytes) -> bool:
        if self.lingering_since is None:
            return super().received(data)
        self._discard_left -= len(data)
        if self._discard_left <= 0:
            self.close_now()
        return False

    def handle_close(self) -> None:
        if self.lingering_since is None and self.connected and not self.total_outbufs_len:
            # The response is out; the client may still be sending. Closing with unread data would
            # reset the connection and lose the response on the client's side, so read on first.
            try:
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                self.close_now()
                return
            self.lingering_since = time.time()
            self.will_close = self.close_when_flushed = False
            return
        self.close_now()

    def close_now(self) -> None:
        self.lingering_since = None
        super().handle_close()


class _Server(TcpWSGIServer):
    channel_class = _Channel
    limits: Limits
    on_refusal: Callable[[Refused], None]
    error_body: ErrorBody
    gate: Gate
    evictions = 0

    def reserve(self, request: _Request, need: int) -> bool:
        """Take `need` bytes of the body buffer for `request` if that keeps within max_buffered_bytes."""
        in_use = 0
        for channel in list(self.active_channels.values()):
            for held in [channel.request, *list(channel.requests)]:
                if held is not None and held is not request:
                    in_use += getattr(held, "reserved", 0)
        return in_use + need <= self.limits.max_buffered_bytes

    def readable(self) -> bool:
        # waitress stops accepting at its connection limit; here every connection is accepted and
        # handle_accept makes room, so a probe is never left waiting in the backlog.
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + CHECK_SECONDS
            self.maintenance(now)
        return bool(self.accepting)

    def handle_accept(self) -> None:
        if len(self.active_channels) >= self.limits.max_connections:
            self._evict_one()
        super().handle_accept()

    def _evict_one(self) -> None:
        idle = [channel for channel in list(self.active_channels.values()) if not channel.busy()]
        if not idle:
            return  # every connection has work in hand: accept over the limit rather than stall
        victim = min(idle, key=lambda channel: (channel.lingering_since is None, channel.last_activity))
        victim.close_now()
        self.evictions += 1
        if self.evictions % EVICTIONS_PER_WARNING == 1:  # a flood would otherwise write a line per connection
            log.warning(
                "at %d connections: closed the one silent longest (%d so far)",
                self.limits.max_connections,
                self.evictions,
            )

    def maintenance(self, now: float) -> None:
        cutoff = now - self.limits.read_timeout
        self._drop_unsent(now)
        for channel in list(self.active_channels.values()):
            if channel.lingering_since is not None:
                if channel.lingering_since < now - LINGER_SECONDS:
                    channel.close_now()
            elif channel.busy():
                continue
            elif (
                channel.request is not None
                and self.limits.min_upload_rate
                and channel.request.too_slow(now, self.limits)
            ):
                log.info(
                    "cutting an upload that sent %d bytes in %.1f s (MIN_UPLOAD_BYTES_PER_SECOND=%d)",
                    channel.request.body_bytes_received,
                    now - channel.request.body_started,
                    self.limits.min_upload_rate,
                )
                channel.cut_slow_upload()
            elif channel.request is not None and channel.request.started < cutoff:
                log.info("closing a connection whose request did not arrive within %.0f s", self.limits.read_timeout)
                channel.close_now()
            elif channel.last_activity < cutoff:
                channel.close_now()

    def _drop_unsent(self, now: float) -> None:
        """Close the connections whose response is not all sent within send_timeout, then, while more
        than max_unsent_bytes wait in all, the longest-waiting ones (never one younger than
        UNSENT_GRACE_SECONDS): their clients are not reading, and their responses are dropped."""
        waiting = sorted(
            (channel for channel in list(self.active_channels.values()) if channel.total_outbufs_len),
            key=lambda channel: channel.unsent_since,
        )
        unsent = sum(channel.total_outbufs_len for channel in waiting)
        for channel in waiting:
            late = channel.unsent_since < now - self.limits.send_timeout
            over = unsent > self.limits.max_unsent_bytes and channel.unsent_since < now - UNSENT_GRACE_SECONDS
            if not (late or over):
                continue
            unsent -= channel.total_outbufs_len
            log.info(
                "closing a connection whose client left %d response bytes unread for %.1f s (%s)",
                channel.total_outbufs_len,
                now - channel.unsent_since,
                "SEND_TIMEOUT_SECONDS" if late else "MAX_UNSENT_BYTES",
            )
            channel.close_now()


class Server:
    """A waitress server on its own socket map, run by serve() until stop() is called."""

    def __init__(
        self,
        app: Callable[..., Any],
        *,
        host: str,
        port: int,
        threads: int,
        limits: Limits,
        on_refusal: Callable[[Refused], None] = lambda refused: None,
        error_body: ErrorBody = any_path_error_body,
        gate: Gate = open_gate,
    ) -> None:
        self._map: dict[int, Any] = {}
        self._stopping = threading.Event()
        self._closing = threading.Lock()  # stop()'s wake-up never writes to the trigger once the loop closed it
        self._closed = False
        self._wsgi = _Server(
            app,
            map=self._map,
            host=host,
            port=port,
            threads=threads,
            # waitress refuses a Content-Length >= this, so one more than the largest allowed body
            max_request_body_size=limits.max_body_bytes + 1,
            # No channel_timeout, cleanup_interval or connection_limit: only waitress's readable()
            # and maintenance() read them, and _Server replaces both with the limits above.
            # Bodies and responses stay in memory, where the limits above bound them, instead of
            # spilling into temporary files: a pod's /tmp is small (a 64 MiB emptyDir on Knative), and
            # a full /tmp then cannot break a request.
            inbuf_overflow=limits.max_body_bytes + 1,
            outbuf_overflow=OUTBUF_IN_MEMORY,
            ident=IDENT,
        )
        self._wsgi.limits = limits
        self._wsgi.on_refusal = on_refusal
        self._wsgi.error_body = error_body
        self._wsgi.gate = gate

    @property
    def port(self) -> int:
        return int(self._wsgi.effective_port)

    def serve(self) -> None:
        while not self._stopping.is_set():
            poll_once(self._map, min(POLL_SECONDS, CHECK_SECONDS))
        self._wsgi.task_dispatcher.shutdown()
        with self._closing:
            self._closed = True
            wasyncore.close_all(self._map)

    def stop(self) -> None:
        """Make serve() return; safe from any thread. The trigger only wakes the loop early, and a loop that saw
        the flag first has closed it: writing to it then failed with EBADF in the drain thread, or could have
        written to whatever took its descriptor number."""
        self._stopping.set()
        with self._closing:
            if not self._closed:
                self._wsgi.pull_trigger()

    def flushed(self) -> bool:
        """True when no connection has a request in work or a response still to send."""
        channels = [c for c in list(self._map.values()) if isinstance(c, HTTPChannel)]
        return all(not c.requests and not c.total_outbufs_len for c in channels)


def poll_once(channels: dict[int, Any], timeout: float) -> None:
    """One turn of wasyncore's poll loop, where an event reaches only the object it was polled for.

    Building the poll set runs each object's readable(), and the server's runs maintenance(),
    which may close a connection already registered. Its descriptor is then free, poll() reports
    it invalid, and a connection accepted in the same turn takes the same number: wasyncore's
    loop would hand it that invalid-descriptor event, and it would close with no response.
    """
    pollster = select.poll()
    polled: dict[int, Any] = {}
    for fd, channel in list(channels.items()):
        flags = 0
        if channel.readable():
            flags |= select.POLLIN | select.POLLPRI
        if channel.writable() and not channel.accepting:
            flags |= select.POLLOUT
        if flags:
            pollster.register(fd, flags)
            polled[fd] = channel
    for fd, flags in pollster.poll(int(timeout * 1000)):  # retried after a signal (PEP 475)
        channel = channels.get(fd)
        if channel is not None and channel is polled.get(fd):
            wasyncore.readwrite(channel, flags)
