"""The python3-rembg template: HTTP, health, the token, the in-flight limit, metrics, request logs
and draining around one function.

The function is `function.handler`: its new() returns an object with start(env), handle(event,
context) → {statusCode, body, headers}, ready() and stop(), and may name its routes in `routes`
(then any other path, but the platform's under /_/, is a 404 that lists them, whatever the
method; they are the metrics' route labels too) and shape the server's own errors per path with
`error_body(path, status, code, message)`; an error it answers itself names its code in
`context.fields["code"]` for the metrics. A function with `handle_get(event, context)` answers
GET too (a page, say), outside the in-flight slots and the token, neither counted nor limited;
with `methods(path)` it says which methods each path answers, for a 405's Allow. Beside the
handler, the template reads two modules of the function's that any function of this shape carries:
`function.environment` (the one rule for reading variables) and `function.errors`' error_body (the
one JSON error body).

The server listens on $PORT at once and runs start() in the background (health says 503 until
ready() is true), hands each POST to handle(), and on SIGTERM stops taking work, finishes what is
in flight, calls stop() and exits 0. What the function puts in `context.fields` joins the
request's log line.

start() raising ValueError means a bad setting (exit 2, its message names the variable); any
other exception means the function cannot start (exit 1).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import auth
import logs
import metrics
import outcome
from flask import Flask, Response, g, request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import PathConverter

from arenas import limit_arenas
from errors import (
    ErrorBody,
    Refusal,
    any_path_error_body,
    busy,
    no_route,
    retry_after,
    unauthorized,
    unavailable,
)
from function import handler
from function.errors import JSON_TYPE
from lifecycle import Lifecycle
from serve import Denied, Gate, Limits, Refused, Server, open_gate
from settings import ServerSettings, SettingError, read_tokens

log = logging.getLogger("remove-bg")

FLUSH_SECONDS = 5.0
# Threads beyond the in-flight slots answer health probes and 429s while requests are in work.
SPARE_THREADS = 4
# The platform's paths (the probes); the function's routes never match them: anything else there is a 404.
RESERVED = "/_/"
LOADING = "the function is still loading; retry"
EXIT_BAD_SETTING = 2
EXIT_CANNOT_START = 1


@dataclass
class Event:
    body: bytes
    headers: Headers
    method: str
    query: dict[str, str]
    path: str


@dataclass
class Context:
    call_id: str
    hostname: str = field(default_factory=lambda: os.getenv("HOSTNAME", "localhost"))
    fields: dict[str, Any] = field(default_factory=dict)  # the function's facts for the log line


def create_app(
    function: Any, lifecycle: Lifecycle, routes: metrics.Routes, error_body: ErrorBody = any_path_error_body
) -> Flask:
    """The Flask app around `function`; its errors shaped by `error_body` (the function's, if it has one)."""
    app = Flask(__name__)
    app.url_map.converters["function"] = FunctionPath
    # Flask answers OPTIONS on every route by itself; this function has nothing to say to it but 405.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False

    @app.before_request
    def begin() -> None:
        g.started = time.perf_counter()
        g.call_id = outcome.call_id(request.headers.get("X-Call-Id"))
        g.fields = {}
        g.code = None  # an error's code when it is known here; else read from the JSON body

    _answer_unknown_paths(app, tuple(getattr(function, "routes", ())))

    @app.before_request
    def until_ready() -> None:
        """Every request to the function's paths, whatever its method, gets this one 503 (with its Retry-After)
        until the function is ready: before start() has read its settings it cannot say what it answers."""
        if not request.path.startswith(RESERVED) and not lifecycle.ready:
            raise unavailable(LOADING)

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers["X-Call-Id"] = g.call_id
        if request.method == "GET" and request.path.startswith(RESERVED):
            return response  # probes: every 2 s from each platform, neither counted nor logged
        status = response.status_code
        body = response.get_data() if status >= 400 else b""  # error bodies are small JSON
        outcome.record(
            outcome.Outcome(
                call_id=g.call_id,
                method=request.method,
                route=routes.label(request.path),
                status=status,
                seconds=time.perf_counter() - g.started,
                bytes_in=g.get("bytes_in", request.content_length or 0),
                bytes_out=response.content_length or 0,
                code=outcome.error_code(status, response.content_type, body, g.code),
                fields=g.fields,
            ),
            counted=request.method == "POST",
        )
        return response

    def probe(status: int, text: str) -> Response:
        response = Response(text, status, mimetype="text/plain")
        if (seconds := retry_after(status)) is not None:  # loading, draining, at the limit: all pass soon
            response.headers["Retry-After"] = seconds
        return response

    @app.get(RESERVED + "health")
    def health() -> Response:
        return probe(*lifecycle.health())

    @app.get(RESERVED + "live")
    def live() -> Response:
        return probe(*lifecycle.liveness())

    @app.get(RESERVED + "ready")
    def ready() -> Response:
        return probe(*lifecycle.readiness())

    @app.post("/", defaults={"path": ""})
    @app.post("/<function:path>")
    def invoke(path: str) -> Response:
        # The token was asked for by the server, from the headers, before the body was read (token_gate).
        if lifecycle.draining:
            raise unavailable("this instance is shutting down; retry")
        if not lifecycle.try_enter():
            raise busy(lifecycle.max_inflight)
        try:
            body = request.get_data(cache=False)
            g.bytes_in = len(body)
            event = Event(
                body=body,
                headers=request.headers,
                method=request.method,
                query=request.args.to_dict(),
                path=request.path,
            )
            context = Context(call_id=g.call_id)
            g.fields = context.fields
            result: dict[str, Any] = function.handle(event, context)
        finally:
            lifecycle.leave()
        status = result.get("statusCode", 200)
        if status >= 400:
            g.code = context.fields.get("code")
        return _answered(result["body"], status, result.get("headers"))

    if (handle_get := getattr(function, "handle_get", None)) is not None:
        _answer_gets(app, handle_get)  # without it, a GET on the function's paths is Flask's 405
    _answer_errors(app, error_body, getattr(function, "methods", None))
    return app


def token_gate(token: auth.TokenFile) -> Gate:
    """The one check of the token, which the server runs as soon as a request's headers are in: every POST to
    the function's paths must carry it, and so must any request with a body, whatever its method or path (only
    those POSTs use one; without the token none holds a share of the body buffer); the probes and GETs never do."""

    def gate(method: str, path: str, headers: Mapping[str, str], body: bool) -> Denied | None:
        needs = body or (method == "POST" and not path.startswith(RESERVED))
        if not needs or auth.authorized(headers, token.current()):
            return None
        return Denied(unauthorized().message, auth.challenges(headers))

    return gate


class FunctionPath(PathConverter):
    """A path of the function's: any but the platform's under RESERVED, which routing then answers
    itself (a probe's 405 with its own Allow, a 404 for the rest), token or not."""

    regex = rf"(?!{RESERVED[1:]}){PathConverter.regex}"


def _answer_unknown_paths(app: Flask, declared: tuple[str, ...]) -> None:
    """A 404 listing the function's routes for any other path but the platform's, whatever the method; none
    when it declares no routes. Ahead of the routing's own answer for such a path (the GET routed to every path
    would make it a 405) and of the 503 while loading: a path that is no route will not become one by a retry."""

    @app.before_request
    def route() -> None:
        if declared and request.path not in declared and not request.path.startswith(RESERVED):
            raise no_route(request.method, request.path, declared)


def _answer_gets(app: Flask, handle_get: Any) -> None:
    @app.get("/", defaults={"path": ""})
    @app.get("/<function:path>")
    def look(path: str) -> Response:
        context = Context(call_id=g.call_id)
        g.fields = context.fields
        query = request.args.to_dict()
        event = Event(body=b"", headers=request.headers, method=request.method, query=query, path=request.path)
        result: dict[str, Any] = handle_get(event, context)
        return _answered(result["body"], result.get("statusCode", 200), result.get("headers"))


def _answered(body: bytes, status: int, headers: dict[str, str] | None) -> Response:
    """The function's answer as it gave it, with the Retry-After every 429 and 503 of this server carries
    (a deadline passed, a decoder restarting, still loading): one rule, here, not one per answer."""
    response = Response(body, status, headers)
    if (seconds := retry_after(status)) is not None and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = seconds
    return response


def _answer_errors(app: Flask, shaped: ErrorBody, methods: Callable[[str], tuple[str, ...]] | None) -> None:
    """Every error as a JSON body, whoever raised it, in the shape the function gives the path.

    A 405's Allow lists what the path really answers: the function says so for its own paths
    (`methods(path)`), since the GET routed to every path answers most of them with a 405 too.
    """

    def error_response(status: int, code: str, message: str) -> Response:
        g.code = code
        response = Response(shaped(request.path, status, code, message), status, content_type=JSON_TYPE)
        if (seconds := retry_after(status)) is not None:
            response.headers["Retry-After"] = seconds
        return response

    @app.errorhandler(Refusal)
    def refused(error: Refusal) -> Response:
        log.debug("%s %s -> %d %s: %s", request.method, request.path, error.status, error.code, error.message)
        return error_response(error.status, error.code, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = error.get_response()  # keeps what HTTP asks of the status, such as a 405's Allow
        status = error.code or 500
        if isinstance(error, MethodNotAllowed):
            response.headers["Allow"] = ", ".join(sorted(_allowed(error, methods)))
        code = (error.name or "error").lower().replace(" ", "_")
        g.code = code
        response.set_data(shaped(request.path, status, code, error.description or error.name))
        response.content_type = JSON_TYPE
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error")


def _allowed(error: MethodNotAllowed, methods: Callable[[str], tuple[str, ...]] | None) -> Iterable[str]:
    """The function's word for its own paths; routing's for the rest, which comes from a set, in an
    order that follows the process' hash seed until sorted."""
    if methods is not None and not request.path.startswith(RESERVED):
        return methods(request.path)
    return error.valid_methods or ()


class Service:
    """Start-up, the function's start(), and the drain on SIGTERM, around one Server."""

    def __init__(self, settings: ServerSettings, function: Any) -> None:
        self.settings = settings
        self.function = function
        self.lifecycle = Lifecycle(settings.max_inflight, function.ready)
        self.routes = metrics.Routes(getattr(function, "routes", ("/",)))
        error_body: ErrorBody = getattr(function, "error_body", any_path_error_body)
        self.server = Server(
            create_app(function, self.lifecycle, self.routes, error_body),
            host=settings.host,
            port=settings.port,
            threads=settings.max_inflight + SPARE_THREADS,
            limits=Limits(
                max_body_bytes=settings.max_body_bytes,
                max_buffered_bytes=settings.max_buffered_bytes,
                max_connections=settings.max_connections,
                read_timeout=settings.read_timeout_seconds,
                min_upload_rate=settings.min_upload_bytes_per_second,
                upload_grace=settings.upload_grace_seconds,
                send_timeout=settings.send_timeout_seconds,
                max_unsent_bytes=settings.max_unsent_bytes,
            ),
            on_refusal=self._refused,
            error_body=error_body,
            gate=open_gate
            if not settings.tokens
            else token_gate(auth.TokenFile(settings.token_file, settings.tokens, read_tokens)),
        )
        self.exit_code = 0

    def run(self) -> int:
        started = time.perf_counter()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        lifecycle = self.lifecycle
        metrics.watch(lambda: lifecycle.inflight, self.settings.max_inflight, lambda: lifecycle.health()[0] == 200)
        try:
            metrics.serve(self.settings.host, self.settings.metrics_port)
        except OSError as exc:
            log.error("cannot serve metrics on %s:%d: %s", self.settings.host, self.settings.metrics_port, exc)
            return EXIT_CANNOT_START
        threading.Thread(target=self._start, args=(started,), name="start", daemon=True).start()
        log.info(
            "listening on %s:%d, metrics on :%d%s",
            self.settings.host,
            self.server.port,
            self.settings.metrics_port,
            ", token required" if self.settings.tokens else "",
        )
        self.server.serve()
        self.function.stop()
        log.info("stopped with exit code %d", self.exit_code)
        return self.exit_code

    def _start(self, started: float) -> None:
        try:
            self.function.start(dict(os.environ))
        except ValueError as exc:
            log.error("configuration error: %s", exc)
            self._fail(EXIT_BAD_SETTING)
            return
        except RuntimeError as exc:  # the function says why it cannot start; no traceback to read
            log.error("cannot start: %s", exc)
            self._fail(EXIT_CANNOT_START)
            return
        except Exception:
            log.exception("cannot start: the function's start() failed")
            self._fail(EXIT_CANNOT_START)
            return
        log.info("ready in %.2f s", time.perf_counter() - started)

    def _refused(self, refusal: Refused) -> None:
        """A request waitress answered itself (401 and 413 from the headers, 429 before the body, 408 for a
        body too slow, 400 for a broken request)."""
        outcome.record(
            outcome.Outcome(
                call_id=refusal.call_id,
                method=refusal.method,
                route=self.routes.label(refusal.path),
                status=refusal.status,
                seconds=refusal.seconds,
                bytes_in=refusal.bytes_in,
                bytes_out=refusal.bytes_out,
                code=refusal.code,
            ),
            counted=refusal.method == "POST",
        )

    def _fail(self, code: int) -> None:
        self.exit_code = code
        self.server.stop()

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.lifecycle.start_draining():
            log.info("%s: draining (up to %.0f s)", signal.Signals(signum).name, self.settings.drain_seconds)
            threading.Thread(target=self._drain, name="drain", daemon=True).start()

    def _drain(self) -> None:
        if not self.lifecycle.wait_idle(self.settings.drain_seconds):
            log.warning("drain period over with requests still in work; stopping anyway")
        deadline = time.monotonic() + FLUSH_SECONDS
        while not self.server.flushed() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.server.stop()


def main() -> int:
    limit_arenas()  # first: glibc gives each thread its arena on its first malloc
    try:
        settings = ServerSettings.from_env()
    except SettingError as exc:
        logs.configure("INFO", os.environ.get("LOG_FORMAT", "json").lower())
        log.error("configuration error: %s", exc)
        return EXIT_BAD_SETTING
    logs.configure(settings.log_level, settings.log_format)
    try:
        service = Service(settings, handler.new())
    except (OSError, ValueError) as exc:  # waitress could not resolve or bind the address
        log.error("configuration error: HOST=%r PORT=%d: cannot listen there (%s)", settings.host, settings.port, exc)
        return EXIT_BAD_SETTING
    return service.run()


if __name__ == "__main__":
    sys.exit(main())
