"""Schemathesis hooks for the fuzz (SCHEMATHESIS_HOOKS=tests.support.fuzz_hooks): real pictures.

Bytes generated for an image are almost never a picture, so the options behind them would only
ever meet a 415. Here half the bodies carry a small real photo instead (as a file part, as base64,
or as the raw body), and the options go through the whole pipeline.
"""

from __future__ import annotations

import base64

import schemathesis
from hypothesis import strategies as st

from function.request.routes import OWN, ROUTES
from tests.support import images

# Every route's image fields, as the routes name them: file parts, and base64 on the compatible routes.
FILE_FIELDS = {name for route in (OWN, *ROUTES.values()) for name in route.file_fields}
BASE64_FIELDS = {name for route in ROUTES.values() for name in route.base64_fields}


def _pictures() -> list[bytes]:
    """A JPEG photo, a PNG with its own transparency, a lossy WebP: small, so the fuzz stays quick."""
    small = images.photo("chelsea").resize((90, 60))
    with_alpha = images.photo("coffee").resize((64, 48)).convert("RGBA")
    with_alpha.putalpha(with_alpha.getchannel("G"))
    return [images.jpeg(small), images.encode(with_alpha, "PNG"), images.encode(small, "WEBP", quality=80)]


PICTURES = _pictures()


def with_picture(body: object, picture: bytes) -> object:
    """`body` with each image in it (raw, file part or base64 field) replaced by `picture`."""
    if isinstance(body, bytes):
        return picture
    if not isinstance(body, dict):
        return body
    changed = dict(body)
    for name in FILE_FIELDS:
        if isinstance(changed.get(name), bytes):
            changed[name] = picture
    for name in BASE64_FIELDS:
        if isinstance(changed.get(name), str):
            changed[name] = base64.b64encode(picture).decode("ascii")
    return changed


@schemathesis.hook
def flatmap_body(context: schemathesis.HookContext, body: object) -> st.SearchStrategy:
    return st.one_of(st.just(body), st.sampled_from(PICTURES).map(lambda picture: with_picture(body, picture)))
