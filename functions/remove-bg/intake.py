"""Find the image in a request body: the raw body, or one file part of a multipart form."""

from __future__ import annotations

import io

from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header

from .errors import EmptyBody, NoImage

# The worker posts `image`; rembg's own server takes `file`; remove.bg takes `image_file`.
FILE_FIELDS = ("image", "file", "image_file")
MAX_FORM_PARTS = 100


def image_bytes(body: bytes, content_type: str | None) -> bytes:
    """The image bytes a request carries, whatever its Content-Type but multipart/form-data."""
    if not body:
        raise EmptyBody("the request body is empty: send the image as the body or as a form part named 'image'")
    mimetype, options = parse_options_header(content_type or "")
    if mimetype != "multipart/form-data":
        return body
    data = _form_file(body, mimetype, options)
    if not data:
        raise EmptyBody("the form part holding the image is empty")
    return data


def _form_file(body: bytes, mimetype: str, options: dict[str, str]) -> bytes:
    parser = FormDataParser(max_content_length=len(body), max_form_parts=MAX_FORM_PARTS)
    _, _, files = parser.parse(io.BytesIO(body), mimetype, len(body), options)
    try:
        for field in FILE_FIELDS:
            part = files.get(field)
            if part is not None:
                return part.read()
    finally:
        for part in files.values():
            part.close()
    raise NoImage(f"the multipart form has no file part named {', '.join(FILE_FIELDS)}")
