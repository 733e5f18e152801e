"""The remove-bg function as the template drives it: new() once, start(env), then handle() per request.

The shape is Knative func-python's function object: start() reads the function's own settings
and loads the model before the template reports ready; handle() answers every request with
{statusCode, body, headers}, the client's own mistakes included (as a JSON 4xx), and adds its
facts (sizes, stage times, model) to the context's fields for the request's log line; stop() lets
the image threads go. The template knows nothing else about images.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from . import metrics
from .config import Settings
from .cpu import usable_cpus
from .errors import JSON_TYPE, ApiError
from .intake import image_bytes
from .model import locate, open_session
from .pipeline import Pipeline, PipelineOptions


class Event(Protocol):
    body: bytes
    headers: Any  # a case-insensitive mapping of the request's headers
    method: str
    path: str


class Context(Protocol):
    fields: dict[str, Any]  # facts for the request's log line; never image bytes


# The routes clients are told about (`/` and the name of what it does); any other path is served too.
ROUTES = ("/", "/remove-background")


def new() -> RemoveBg:
    return RemoveBg()


class RemoveBg:
    routes = ROUTES

    def __init__(self) -> None:
        self._pipeline: Pipeline | None = None
        self._model = ""

    def start(self, env: Mapping[str, str]) -> None:
        """Read the settings (ConfigError names a bad one) and load the model, once per process."""
        settings = Settings.from_env(env)
        cpus = usable_cpus()
        started = time.perf_counter()
        session = open_session(settings.model, settings.threads or cpus)
        metrics.model_loaded(settings.model, locate(settings.model), time.perf_counter() - started)
        self._model = settings.model
        self._pipeline = Pipeline(
            session,
            PipelineOptions(
                max_input_pixels=settings.max_input_pixels,
                max_pixels=settings.max_pixels,
                png_compress_level=settings.png_compress_level,
                threads=cpus,
            ),
        )

    def ready(self) -> bool:
        return self._pipeline is not None

    def stop(self) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.close()

    def handle(self, event: Event, context: Context) -> dict[str, Any]:
        if self._pipeline is None:
            raise RuntimeError("handle() called before start()")
        context.fields["model"] = self._model
        try:
            result = self._pipeline.run(image_bytes(event.body, event.headers.get("Content-Type")))
        except ApiError as error:
            context.fields["detail"] = error.message
            return {"statusCode": error.status, "body": error.body(), "headers": {"Content-Type": JSON_TYPE}}
        metrics.image_done(result.seconds, result.source_size)
        context.fields.update(
            {
                "format": result.source_format,
                "input": "{}x{}".format(*result.source_size),
                "output": "{}x{}".format(*result.size),
                "megapixels": round(result.source_size[0] * result.source_size[1] / 1e6, 2),
                **{f"{stage}_ms": round(seconds * 1000, 1) for stage, seconds in result.seconds.items()},
            }
        )
        return {
            "statusCode": 200,
            "body": result.png,
            "headers": {
                "Content-Type": "image/png",
                "X-Width": str(result.size[0]),
                "X-Height": str(result.size[1]),
                "X-Input-Width": str(result.source_size[0]),
                "X-Input-Height": str(result.source_size[1]),
            },
        }
