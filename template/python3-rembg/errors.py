"""The server's own error responses, in the JSON shape every error has.

Body: {"error": {"status": N, "code": "snake_case", "message": "..."}}, written by the function's
errors.error_body, the one definition of that shape (the template may import the function, never the
reverse): the function answers its own errors in it, and these are the ones that happen before or
around it. A function whose routes speak another API's dialect may shape these too, with an
`error_body(path, status, code, message)` of its own (ErrorBody); the status, the code counted and
Retry-After stay the template's.
"""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches
from http import HTTPStatus

from function.errors import error_body

# 429 and 503 say "come back soon": about the time one request takes, or a start-up.
RETRY_AFTER_SECONDS = "1"
# A 404 quotes this much of the path it was sent (a request line may be 16 KB).
SHOWN_PATH_CHARS = 100
# How alike a path must be to a route to be offered as "did you mean" (difflib's ratio). Above its default of
# 0.6: paths share their slashes and words, and at 0.6 /api/remove (rembg's own) would be taken for /v1.0/removebg.
NEAR = 0.8


ErrorBody = Callable[[str, int, str, str], bytes]  # path, status, code, message → a JSON body


def any_path_error_body(path: str, status: int, code: str, message: str) -> bytes:
    """The template's own shape, whatever the path: for a function without error_body()."""
    return error_body(status, code, message)


def retry_after(status: int) -> str | None:
    return RETRY_AFTER_SECONDS if status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE) else None


class Refusal(Exception):
    """A request the server answers itself, before the function sees it."""

    def __init__(self, status: HTTPStatus, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = int(status), code, message


def unauthorized() -> Refusal:
    message = (
        "this function needs its token: Authorization: Bearer <token>, Basic with the token as password, or X-Api-Key"
    )
    return Refusal(HTTPStatus.UNAUTHORIZED, "unauthorized", message)


def no_route(method: str, path: str, routes: tuple[str, ...]) -> Refusal:
    """A path that is none of the function's routes: the routes listed, the nearest first when one is near
    (a version or a dot left out: /v1/removebg for /v1.0/removebg)."""
    nearest = get_close_matches(path, routes, n=1, cutoff=NEAR)
    hint = f"did you mean {nearest[0]}? " if nearest else ""
    shown = path if len(path) <= SHOWN_PATH_CHARS else path[:SHOWN_PATH_CHARS] + "…"
    message = f"{method} {shown!r}: no such route here; {hint}the routes are {', '.join(routes)}"
    return Refusal(HTTPStatus.NOT_FOUND, "not_found", message)


def busy(max_inflight: int) -> Refusal:
    return Refusal(
        HTTPStatus.TOO_MANY_REQUESTS, "busy", f"{max_inflight} request(s) already in work here; retry shortly"
    )


def unavailable(why: str) -> Refusal:
    return Refusal(HTTPStatus.SERVICE_UNAVAILABLE, "unavailable", why)
