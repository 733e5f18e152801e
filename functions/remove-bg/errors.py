"""The errors a client can cause with an image or an option, and our own route's JSON body for them.

Body: {"error": {"status": N, "code": "snake_case", "message": "..."}}, defined once here by
error_body(): the template imports it (and JSON_TYPE) for its own errors (404, 413, 429, 503...),
so a client reads every error the same way. The Pixian and remove.bg routes shape the same errors
their way (routes.py). The template imports this module, so it imports nothing of the function.
"""

from __future__ import annotations

import json
from collections.abc import Callable

JSON_TYPE = "application/json"
# How much of a client's value an error message quotes: enough to recognise it, never the whole of a
# 10 MB field (which would come back as a 10 MB answer and go into a 10 MB log line).
ECHO_CHARS = 40

Naming = Callable[[str], str]  # an Options attribute (format, margin...) → the field a route calls it


def echo(value: str) -> str:
    """`value` as a message quotes it: repr-escaped (control characters and quotes made visible), at
    most its first ECHO_CHARS characters, and how long it was when it was longer."""
    if len(value) <= ECHO_CHARS:
        return repr(value)
    return f"{value[:ECHO_CHARS]!r}… ({len(value)} characters)"


def own_names(attribute: str) -> str:
    """Our route's field for an Options attribute: the attribute's own name."""
    return attribute


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

    def message_for(self, names: Naming) -> str:
        """The message with the options named as a route's fields are (Pixian's `output.format`...)."""
        return self.message


class EmptyBody(ApiError, status=400, code="empty_body"): ...


class NoImage(ApiError, status=400, code="no_image"): ...


class CorruptImage(ApiError, status=400, code="corrupt_image"): ...


class UnsupportedImage(ApiError, status=415, code="unsupported_image"): ...


class ImageTooLarge(ApiError, status=413, code="image_too_large"): ...


class MultipleImages(ApiError, status=400, code="multiple_images"): ...


class BadForm(ApiError, status=400, code="bad_request"): ...


class UnsupportedOption(ApiError, status=400, code="unsupported_option"): ...


class UnknownOption(ApiError, status=400, code="unknown_option"):
    """A field or query parameter our route does not read: refused, so that a misspelt option is not silently
    left out of the answer (the compatible routes ignore such fields, as Pixian and remove.bg do)."""


class InvalidOption(ApiError, status=400, code="invalid_option"):
    """A request option whose value does not parse; `field` is its name as the client sent it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class OutputTooLarge(ApiError, status=400, code="output_too_large"):
    """An output with a side longer than its format's encoder writes, found from the layout's arithmetic
    before any pixel is moved; or a Delta PNG the pixel limit would scale, found from the image's header
    (output/limits.py). `words` writes the message for a route's field names, so each route's
    client reads the options as it sent them."""

    def __init__(self, words: Callable[[Naming], str]) -> None:
        super().__init__(words(own_names))
        self._words = words

    def message_for(self, names: Naming) -> str:
        return self._words(names)


def error_body(status: int, code: str, message: str) -> bytes:
    """The JSON body of an error response."""
    payload = {"error": {"status": status, "code": code, "message": message}}
    return json.dumps(payload).encode("utf-8")


class DecodeTimeout(ApiError, status=422, code="decode_timeout"): ...


class DecodeMemory(ApiError, status=413, code="decode_memory"): ...


class DecodeCrashed(ApiError, status=422, code="undecodable_image"): ...


class DecoderRestarting(ApiError, status=503, code="unavailable"):
    """The decode zygote itself stopped (killed from outside, out of memory): the server's fault, and passing."""


class DeadlineExceeded(ApiError, status=503, code="deadline_exceeded"):
    """The whole request ran past REQUEST_SECONDS; `stage` is where it was stopped (decode, mask, output)."""

    def __init__(self, stage: str, seconds: float) -> None:
        super().__init__(
            f"the request took longer than REQUEST_SECONDS={seconds:g} s allows (stopped in its {stage} stage);"
            " retry, or send a smaller image"
        )
        self.stage = stage
