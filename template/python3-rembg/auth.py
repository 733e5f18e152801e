"""The optional token: `Authorization: Bearer <token>`, or HTTP Basic with the token as the password.

Basic with any user name is what Pixian-style clients send. Compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac

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


def authorized(header: str | None, token: str) -> bool:
    given = presented(header)
    return given is not None and hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))
