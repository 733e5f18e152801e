"""A request body as the routes read it: the raw image, or a form's files and fields.

Multipart forms are read on every route; urlencoded and JSON bodies only where a route asks,
because `curl --data-binary @photo.jpg` labels a raw image as urlencoded. The first value of a
repeated name wins. Base64 images (Pixian's `image.base64`, remove.bg's `image_file_b64`) are
decoded here, a data: URL prefix allowed.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from dataclasses import dataclass, field

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header

from ..errors import BadForm, CorruptImage, EmptyBody, InvalidOption

MAX_FORM_PARTS = 100
# `curl -d @photo.jpg` (unlike --data-binary) sends the file without its CR and LF bytes. A compressed
# picture's bytes are close to uniform: one of this many bytes without a single CR or LF byte is, at
# (254/256)^2048, a one in ten million chance; a PNG's signature loses its own CR LF and LF at once. Half of
# those bytes are over 127, where text (base64, JSON: no picture, and no line breaks to lose) has none.
STRIPPED_MIN_BYTES = 2048
PNG_STRIPPED = b"\x89PNG\x1a"  # the PNG signature, 89 50 4E 47 0D 0A 1A 0A, without 0D and 0A
LINE_BREAKS_LOST = (
    "the image cannot be decoded, and its bytes have lost their line breaks (CR and LF) on the way, as `curl -d"
    " @file` sends a file: send it with `curl --data-binary @file`, or as a form part (`-F {part}=@file`)"
)
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class Form:
    files: dict[str, bytes] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)


def read_form(body: bytes, content_type: str | None, also: tuple[str, ...] = ()) -> Form | None:
    """The form in `body` if it is multipart (or one of the types in `also`); None for a raw body."""
    if not body:
        raise EmptyBody("the request body is empty: send the image as the body or as a form part named 'image'")
    mimetype, options = parse_options_header(content_type or "")
    if mimetype == JSON and JSON in also:
        return _json_form(body)
    if mimetype != MULTIPART and mimetype not in also:
        return None
    parser = FormDataParser(_in_memory, max_content_length=len(body), max_form_parts=MAX_FORM_PARTS)
    try:
        _, fields, files = parser.parse(io.BytesIO(body), mimetype, len(body), options)
    except RequestEntityTooLarge:  # Werkzeug's word for too many parts: its own 413, code and shape
        raise BadForm(f"the form has more than {MAX_FORM_PARTS} parts") from None
    if None in fields or None in files:  # Werkzeug's name for a part whose Content-Disposition gives none
        raise BadForm('a form part has no name: each needs Content-Disposition: form-data; name="..."')
    try:
        found = {name: files[name].read() for name in files}
    finally:
        for _, part in files.items(multi=True):
            part.close()
    return Form(files=found, fields={name: fields[name] for name in fields})


def stripped_of_line_breaks(body: bytes) -> bool:
    """True when a raw body that did not decode looks like a picture sent by `curl -d`, which drops its CR and
    LF bytes: a PNG signature without them, or binary (not ASCII) of STRIPPED_MIN_BYTES or more with none in it."""
    if body.startswith(PNG_STRIPPED):
        return True
    return len(body) >= STRIPPED_MIN_BYTES and b"\n" not in body and b"\r" not in body and not body.isascii()


def _in_memory(
    total_content_length: int | None,
    content_type: str | None,
    filename: str | None,
    content_length: int | None = None,
) -> io.BytesIO:
    """Every part in memory, where the decode worker's memory limit holds it: Werkzeug's own factory spills parts
    over 500 KB (the worker's own photo, in its call) to a file in /tmp, and a full /tmp was a 500."""
    return io.BytesIO()


def decode_base64(name: str, text: str) -> bytes:
    """The bytes of a base64 field (whitespace and a data: URL prefix allowed)."""
    payload = text.strip()
    if payload.startswith("data:"):
        payload = payload.partition(",")[2]
    try:
        data = base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise CorruptImage(f"{name} is not valid base64") from None
    if not data:
        raise EmptyBody(f"{name} is empty")
    return data


def _json_form(body: bytes) -> Form:
    try:
        found = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
        raise InvalidOption("body", "the JSON body does not parse") from None
    if not isinstance(found, dict):
        raise InvalidOption("body", "the JSON body must be an object of fields")
    return Form(fields={str(name): _text(value) for name, value in found.items() if value is not None})


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
