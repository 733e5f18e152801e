"""The errors a client can cause with an image or an option, and our own route's JSON body for them.

Body: {"error": {"status": N, "code": "snake_case", "message": "..."}}, the shape the template's
own errors (404, 413, 429, 503...) have too, so a client reads every error the same way. The
Pixian and remove.bg routes shape the same errors their way (routes.py).
"""

from __future__ import annotations

import json

JSON_TYPE = "application/json"


class ApiError(Exception):
    """An error the client should see: HTTP status, stable code, human message.

    Each kind names its status and code once: `class EmptyBody(ApiError, status=400, code="empty_body")`.
    """

    status = 400
    code = "bad_request"

    def __init_subclass__(cls, *, status: int, code: str) -> None:
        super().__init_subclass__()
        cls.status, cls.code = status, code

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EmptyBody(ApiError, status=400, code="empty_body"): ...


class NoImage(ApiError, status=400, code="no_image"): ...


class CorruptImage(ApiError, status=400, code="corrupt_image"): ...


class UnsupportedImage(ApiError, status=415, code="unsupported_image"): ...


class ImageTooLarge(ApiError, status=413, code="image_too_large"): ...


class MultipleImages(ApiError, status=400, code="multiple_images"): ...


class BadForm(ApiError, status=400, code="bad_request"): ...


class UnsupportedOption(ApiError, status=400, code="unsupported_option"): ...


class InvalidOption(ApiError, status=400, code="invalid_option"):
    """A request option whose value does not parse; `field` is its name as the client sent it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def error_body(status: int, code: str, message: str) -> bytes:
    """The JSON body of an error response."""
    payload = {"error": {"status": status, "code": code, "message": message}}
    return json.dumps(payload).encode("utf-8")


class DecodeTimeout(ApiError, status=422, code="decode_timeout"): ...


class DecodeMemory(ApiError, status=413, code="decode_memory"): ...


class DecodeCrashed(ApiError, status=422, code="undecodable_image"): ...


class DeadlineExceeded(ApiError, status=503, code="deadline_exceeded"):
    """The whole request ran past REQUEST_SECONDS; `stage` is where it was stopped (decode, mask, output)."""

    def __init__(self, stage: str, seconds: float) -> None:
        super().__init__(
            f"the request took longer than REQUEST_SECONDS={seconds:g} s allows (stopped in its {stage} stage);"
            " retry, or send a smaller image"
        )
        self.stage = stage
