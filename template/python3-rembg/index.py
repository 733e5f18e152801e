"""The python3-rembg template: HTTP, health, the in-flight limit and draining around the function.

Serves on $PORT at once, loads the model in the background (health says 503 until it is loaded),
hands each POST to function.handler.handle(), and on SIGTERM stops taking work, finishes what is
in flight and exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException

from arenas import limit_arenas
from function import handler
from function.config import ConfigError, Settings
from function.errors import JSON_TYPE, ApiError, Busy, NotFound, Unavailable, error_body
from function.model import ModelError
from lifecycle import Lifecycle
from serve import Limits, Server

log = logging.getLogger("remove-bg")

FLUSH_SECONDS = 5.0
RETRY_AFTER_SECONDS = "1"
# Threads beyond the in-flight slots answer health probes and 429s while images are in work.
SPARE_THREADS = 4


@dataclass
class Event:
    body: bytes
    headers: Headers
    method: str
    query: dict[str, str]
    path: str


@dataclass
class Context:
    hostname: str = field(default_factory=lambda: os.getenv("HOSTNAME", "localhost"))


def create_app(lifecycle: Lifecycle) -> Flask:
    app = Flask(__name__)
    # Flask answers OPTIONS on every route by itself; this function has nothing to say to it but 405.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False

    @app.get("/_/health")
    def health() -> Response:
        status, text = lifecycle.health()
        return Response(text, status, mimetype="text/plain")

    @app.get("/_/ready")
    def ready() -> Response:
        status, text = lifecycle.readiness()
        return Response(text, status, mimetype="text/plain")

    @app.post("/", defaults={"path": ""})
    @app.post("/<path:path>")
    def invoke(path: str) -> Response:
        if path.startswith("_/"):
            raise NotFound(f"no such endpoint: /{path}")
        if lifecycle.draining:
            raise Unavailable("this instance is shutting down; retry")
        if not lifecycle.ready:
            raise Unavailable("the model is still loading; retry")
        if not lifecycle.try_enter():
            raise Busy(f"{lifecycle.max_inflight} image(s) already in work here; retry shortly")
        try:
            event = Event(
                body=request.get_data(cache=False),
                headers=request.headers,
                method=request.method,
                query=request.args.to_dict(),
                path=request.path,
            )
            result: dict[str, Any] = handler.handle(event, Context())
        finally:
            lifecycle.leave()
        return Response(result["body"], result.get("statusCode", 200), result.get("headers"))

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        log.info("%s %s -> %d %s: %s", request.method, request.path, error.status, error.code, error.message)
        response = Response(error.body(), error.status, content_type=JSON_TYPE)
        if error.status in (429, 503):
            response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = error.get_response()
        status = error.code or 500
        code = (error.name or "error").lower().replace(" ", "_")
        response.set_data(error_body(status, code, error.description or error.name))
        response.content_type = JSON_TYPE
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return Response(error_body(500, "internal", "internal error"), 500, content_type=JSON_TYPE)

    return app


class Service:
    """Start-up, model load, and the drain on SIGTERM, around one Server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lifecycle = Lifecycle(settings.max_inflight)
        self.server = Server(
            create_app(self.lifecycle),
            host=settings.host,
            port=settings.port,
            threads=settings.max_inflight + SPARE_THREADS,
            limits=Limits(
                max_body_bytes=settings.max_body_bytes,
                max_buffered_bytes=settings.max_buffered_bytes,
                max_connections=settings.max_connections,
                read_timeout=settings.read_timeout_seconds,
            ),
        )
        self.exit_code = 0

    def run(self) -> int:
        started = time.perf_counter()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        threading.Thread(target=self._load, args=(started,), name="model-load", daemon=True).start()
        log.info("listening on %s:%d", self.settings.host, self.server.port)
        self.server.serve()
        log.info("stopped with exit code %d", self.exit_code)
        return self.exit_code

    def _load(self, started: float) -> None:
        try:
            handler.start(self.settings)
        except ModelError as exc:
            log.error("cannot start: %s", exc)
            self._fail()
            return
        except Exception:
            log.exception("cannot start: the model failed to load")
            self._fail()
            return
        self.lifecycle.mark_ready()
        log.info("ready in %.2f s", time.perf_counter() - started)

    def _fail(self) -> None:
        self.exit_code = 1
        self.server.stop()

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.lifecycle.start_draining():
            log.info("%s: draining (up to %.0f s)", signal.Signals(signum).name, self.settings.drain_seconds)
            threading.Thread(target=self._drain, name="drain", daemon=True).start()

    def _drain(self) -> None:
        if not self.lifecycle.wait_idle(self.settings.drain_seconds):
            log.warning("drain period over with images still in work; stopping anyway")
        deadline = time.monotonic() + FLUSH_SECONDS
        while not self.server.flushed() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.server.stop()


def main() -> int:
    limit_arenas()  # first: glibc gives each thread its arena on its first malloc
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
        log.error("configuration error: %s", exc)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return Service(settings).run()


if __name__ == "__main__":
    sys.exit(main())
