"""The remove-bg function as the template drives it: new() once, start(env), then handle() per request.

The shape is Knative func-python's function object: start() reads the function's own settings
and loads the model before the template reports ready; handle() answers every request with
{statusCode, body, headers}, the client's own mistakes included (as a JSON 4xx), and adds its
facts (sizes, stage times, model) to the context's fields for the request's log line; stop() lets
the image threads go. The template knows nothing else about images.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

from . import metrics
from .config import Settings
from .deadline import Deadline
from .errors import JSON_TYPE, ApiError, DeadlineExceeded, echo
from .headers import SEPARATOR, header_value
from .model.load import load
from .pipeline import Pipeline, PipelineOptions, Result
from .process import heap
from .process.cpu import usable_cpus
from .request.options import PLAIN, Options
from .request.routes import OWN_PATHS, PIXIAN_PATH, REMOVEBG_PATH, route_for
from .sandbox.decoder import Answered, Decoder, Limits
from .tryit import page

log = logging.getLogger(__name__)


class Event(Protocol):
    body: bytes
    headers: Any  # a case-insensitive mapping of the request's headers
    method: str
    query: Mapping[str, str]
    path: str


class Context(Protocol):
    call_id: str  # the request's id (X-Call-Id), on the lines logged about it
    fields: dict[str, Any]  # facts for the request's log line; never image bytes


# Ours, Pixian's and remove.bg's: the only paths the template serves (any other is its 404, which lists these).
ROUTES = (*OWN_PATHS, PIXIAN_PATH, REMOVEBG_PATH)


def new() -> RemoveBg:
    return RemoveBg()


class RemoveBg:
    routes = ROUTES

    def __init__(self) -> None:
        self._pipeline: Pipeline | None = None
        self._decoder: Decoder | None = None
        self._request_seconds = 0.0
        self._model = ""
        self._try_page = False

    def start(self, env: Mapping[str, str]) -> None:
        """Read the settings (SettingError names a bad one) and load the model, once per process."""
        settings = Settings.from_env(env)
        cpus = usable_cpus()
        started = time.perf_counter()
        decoder = Decoder(
            Limits(
                memory_bytes=settings.decode_memory_bytes,
                seconds=settings.decode_seconds,
                max_input_pixels=settings.max_input_pixels,
                max_pixels=settings.max_pixels,
            )
        )
        heap.release_large_buffers(heap.threshold(settings.arena))
        threads = settings.threads or cpus
        copies = settings.optimized_copy
        model = load(settings.model, threads, settings.arena, copies)
        core = None if settings.core_model is None else load(settings.core_model, threads, settings.arena, copies)
        self._model = header_value(settings.label)
        metrics.model_loaded(settings.label, model, core, time.perf_counter() - started)
        decoder.ready()
        self._try_page = settings.try_page
        self._request_seconds = settings.request_seconds
        self._decoder = decoder
        self._pipeline = Pipeline(model.session, PipelineOptions.of(settings, cpus), core and core.session)

    def ready(self) -> bool:
        return self._pipeline is not None

    def stop(self) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.close()
        decoder, self._decoder = self._decoder, None
        if decoder is not None:
            decoder.close()

    def handle(self, event: Event, context: Context) -> dict[str, Any]:
        if self._pipeline is None or self._decoder is None:
            raise RuntimeError("handle() called before start()")
        context.fields["model"] = self._model
        route = route_for(event.path)
        deadline = Deadline(self._request_seconds)
        try:
            clock = time.perf_counter()
            decoded = self._decoder.read(
                event.path,
                event.headers.get("Content-Type"),
                event.query,
                event.body,
                deadline,
                call_id=context.call_id,
            )
            decode_seconds = time.perf_counter() - clock
            context.fields["decode_peak_mb"] = round(decoded.peak_bytes / 1e6, 1)
            result = self._pipeline.run(decoded.picture, decoded.options, deadline)
        except Answered as answered:  # the worker's own answer, in the route's shape
            context.fields.update({"code": answered.code, "detail": answered.message})
            return {"statusCode": answered.status, "body": answered.body, "headers": {"Content-Type": JSON_TYPE}}
        except ApiError as error:
            context.fields.update({"code": error.code, "detail": error.message})
            if isinstance(error, DeadlineExceeded):  # its 503 gets the template's Retry-After, as every 503
                metrics.deadline_exceeded(error.stage)
                log.warning("stopped at REQUEST_SECONDS=%g s in the %s stage", deadline.seconds, error.stage)
            return {"statusCode": error.status, "body": route.error(error), "headers": {"Content-Type": JSON_TYPE}}
        result = replace(result, seconds={"decode": decode_seconds, **result.seconds})
        metrics.image_done(result.seconds, result.source_size)
        context.fields.update(
            {
                "format": result.source_format,
                "input": "{}x{}".format(*result.source_size),
                "output": "{}x{}".format(*result.size),
                "megapixels": round(result.source_size[0] * result.source_size[1] / 1e6, 2),
                **({} if decoded.options.plain else {"options": _described(decoded.options)}),
                **{f"{stage}_ms": round(seconds * 1000, 1) for stage, seconds in result.seconds.items()},
            }
        )
        headers = {"Content-Type": result.content_type, **self._headers(result)}
        if route.credits_header:
            headers["X-Credits-Charged"] = "0"
        if decoded.ignored:  # a compatible route's: ours refuses a field it does not read
            headers["X-Ignored-Fields"] = context.fields["ignored"] = SEPARATOR.join(decoded.ignored)
        return {"statusCode": 200, "body": result.body, "headers": headers}

    def handle_get(self, event: Event, context: Context) -> dict[str, Any]:
        """The try-it page at / (TRY_PAGE); every other GET is a 405, the function's paths taking POST only.

        Only once ready: until then the template answers every request with its 503.
        """
        if event.path == "/" and self._try_page:
            return {"statusCode": 200, "body": page.HTML, "headers": page.HEADERS}
        message = f"{echo(event.path)} takes POST" + ("" if self._try_page else "; the try-it page is off (TRY_PAGE)")
        headers = {"Content-Type": JSON_TYPE, "Allow": ", ".join(self.methods(event.path))}
        return {
            "statusCode": 405,
            "body": self.error_body(event.path, 405, "method_not_allowed", message),
            "headers": headers,
        }

    def methods(self, path: str) -> tuple[str, ...]:
        """What `path` answers, for a 405's Allow: POST, and GET (with HEAD) where the try-it page is."""
        return ("GET", "HEAD", "POST") if path == "/" and self._try_page else ("POST",)

    def error_body(self, path: str, status: int, code: str, message: str) -> bytes:
        """The body of an error the template answers itself (401, 413, 429, 503), in the route's own shape."""
        return route_for(path).error_body(status, code, message)

    def _headers(self, result: Result) -> dict[str, str]:
        box = result.foreground
        return {
            "X-Width": str(result.size[0]),
            "X-Height": str(result.size[1]),
            "X-Input-Width": str(result.source_size[0]),
            "X-Input-Height": str(result.source_size[1]),
            "X-Foreground-Top": str(box.top if box else 0),
            "X-Foreground-Left": str(box.left if box else 0),
            "X-Foreground-Width": str(box.width if box else 0),
            "X-Foreground-Height": str(box.height if box else 0),
            "X-Model": self._model,
        }


def _described(options: Options) -> str:
    """The options that differ from the plain PNG, for the log line: `format=webp crop=True margin=5% …`."""
    chosen = {name: value for name, value in vars(options).items() if value != getattr(PLAIN, name)}
    if (color := chosen.get("bg_color")) is not None:
        chosen["bg_color"] = "#{:02x}{:02x}{:02x}{:02x}".format(*color)
    return " ".join(f"{name}={value}" for name, value in chosen.items())
