"""The optional token: `Authorization: Bearer <token>`, HTTP Basic with the token as the password,
or `X-Api-Key: <token>`.

Basic with any user name is what Pixian's clients send; X-Api-Key is remove.bg's header.
Compared in constant time. The token file is watched: Kubernetes updates a mounted Secret in
place, so a rotated token takes effect without a restart; a file may hold the old token and the new
one, a line each, so no call is refused while the clients move.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

log = logging.getLogger("remove-bg.auth")

API_KEY_HEADER = "X-Api-Key"
# Both schemes are offered, so a client that knows only one of them still learns what to send.
CHALLENGES = ('Bearer realm="remove-bg"', 'Basic realm="remove-bg", charset="UTF-8"')


def presented(header: str | None) -> str | None:
    """The token an Authorization header carries, by either scheme; None when it carries none."""
    scheme, _, value = (header or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, colon, password = decoded.partition(":")
        return password if colon else None
    return None


def challenges(headers: Mapping[str, str]) -> tuple[str, ...]:
    """The WWW-Authenticate challenges for a 401: both schemes, except to a page's own script.

    A browser answers a Basic challenge by opening its login dialog, even over a page's fetch();
    the try-it page has a token field of its own. A browser marks a script's request with
    Sec-Fetch-Mode (cors, same-origin...); a navigation or any other client still gets both.
    """
    mode = headers.get("Sec-Fetch-Mode", "navigate").strip().lower()
    return CHALLENGES if mode == "navigate" else CHALLENGES[:1]


def authorized(headers: Mapping[str, str], tokens: Sequence[str]) -> bool:
    """True when the request's Authorization (or, failing that, its X-Api-Key) carries one of `tokens`.

    Every token is compared, the match or not: which line matched takes no less time than a miss."""
    given = presented(headers.get("Authorization")) or headers.get(API_KEY_HEADER, "").strip() or None
    if given is None:
        return False
    matches = [hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")) for token in tokens]
    return any(matches)


class TokenFile:
    """The tokens in a file, read again whenever the file changes.

    A file that is gone, empty or unreadable after a change keeps the last good token (with a
    warning): a half-done update must not switch the check off.
    """

    def __init__(self, path: Path, tokens: tuple[str, ...], read: Callable[[Path], tuple[str, ...] | None]) -> None:
        self._path = path
        self._tokens = tokens
        self._read = read
        self._stamp = self._stat()
        self._lock = threading.Lock()

    def current(self) -> tuple[str, ...]:
        stamp = self._stat()
        if stamp == self._stamp:
            return self._tokens
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                self._reload()
        return self._tokens

    def _reload(self) -> None:
        try:
            tokens = self._read(self._path)
        except ValueError as exc:
            log.warning("kept the last token: %s", exc)
            return
        if tokens is None:
            log.warning("kept the last token: %s is gone", self._path)
            return
        if tokens != self._tokens:
            self._tokens = tokens
            log.info("the token file changed; %d token(s) in use", len(tokens))

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            found = os.stat(self._path)
        except OSError:
            return None
        return (found.st_mtime_ns, found.st_size, found.st_ino)
