"""The remove-bg function in the OpenFaaS python3-http shape: start() once, handle() per request.

start() loads the model before the server reports ready; handle() turns the request's image into
a PNG cut-out, raising an errors.ApiError for anything the client got wrong.
"""

from __future__ import annotations

from typing import Any, Protocol

from .config import Settings
from .cpu import usable_cpus
from .intake import image_bytes
from .model import open_session
from .pipeline import Pipeline, PipelineOptions

_pipeline: Pipeline | None = None


class Event(Protocol):
    body: bytes
    headers: Any


def start(settings: Settings) -> None:
    """Load the model (once per process) and build the pipeline that every request reuses."""
    global _pipeline
    cpus = usable_cpus()
    session = open_session(settings.model, settings.threads or cpus)
    _pipeline = Pipeline(
        session,
        PipelineOptions(
            max_input_pixels=settings.max_input_pixels,
            max_pixels=settings.max_pixels,
            png_compress_level=settings.png_compress_level,
            threads=cpus,
        ),
    )


def handle(event: Event, context: object) -> dict[str, Any]:
    if _pipeline is None:
        raise RuntimeError("handle() called before start()")
    data = image_bytes(event.body, event.headers.get("Content-Type"))
    result = _pipeline.run(data)
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
