"""The errors a client can cause, and the one JSON shape every error response has.

Body: {"error": {"status": N, "code": "snake_case", "message": "..."}}.
"""

from __future__ import annotations

import json

JSON_TYPE = "application/json"


class ApiError(Exception):
    """An error the client should see: HTTP status, stable code, human message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> bytes:
        return error_body(self.status, self.code, self.message)


class EmptyBody(ApiError):
    status, code = 400, "empty_body"


class NoImage(ApiError):
    status, code = 400, "no_image"


class CorruptImage(ApiError):
    status, code = 400, "corrupt_image"


class UnsupportedImage(ApiError):
    status, code = 415, "unsupported_image"


class BodyTooLarge(ApiError):
    status, code = 413, "body_too_large"


class ImageTooLarge(ApiError):
    status, code = 413, "image_too_large"


def error_body(status: int, code: str, message: str) -> bytes:
    """The JSON body of an error response."""
    payload = {"error": {"status": status, "code": code, "message": message}}
    return json.dumps(payload).encode("utf-8")


class Busy(ApiError):
    status, code = 429, "busy"


class Unavailable(ApiError):
    status, code = 503, "unavailable"


class NotFound(ApiError):
    status, code = 404, "not_found"
