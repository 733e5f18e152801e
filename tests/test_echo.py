"""An error message quotes a client's value in short, on every route: a 10 MB field once came back whole, as a
10 MB answer and a 10 MB log line."""

from __future__ import annotations

import pytest
import requests

from tests.support import images
from tests.support.server import ServerProcess

PIXIAN = "/api/v2/remove-background"
REMOVEBG = "/v1.0/removebg"
PICTURE = images.encode(images.photo("coffee").resize((60, 40)), "PNG")
TEN_MB = 10_000_000
LONG_TEXT = "\x1b[31m" + "x" * TEN_MB  # a terminal escape first: quoted escaped, as repr() writes it
SMALL = 1000  # bytes: an answer, and the request's log line


@pytest.mark.parametrize(
    ("path", "file_field", "field", "value"),
    [
        ("/", "image", "crop", LONG_TEXT),
        ("/", "image", "format", LONG_TEXT),
        ("/", "image", "quality", "9" * TEN_MB),
        ("/", "image", "max_pixels", LONG_TEXT),
        ("/", "image", "bg_color", LONG_TEXT),
        ("/", "image", "margin", "1 " * (TEN_MB // 2)),
        ("/", "image", "margin", "9" * TEN_MB + "px"),
        ("/", "image", "margin", LONG_TEXT),
        ("/", "image", "target_size", "1 " * (TEN_MB // 2)),
        (PIXIAN, "image", "result.crop_to_foreground", LONG_TEXT),
        (PIXIAN, "image", "background.color", LONG_TEXT),
        (REMOVEBG, "image_file", "crop", LONG_TEXT),
        (REMOVEBG, "image_file", "bg_color", LONG_TEXT),
        (REMOVEBG, "image_file", "size", LONG_TEXT),
    ],
)
def test_a_10_mb_value_is_quoted_in_short(
    server: ServerProcess, path: str, file_field: str, field: str, value: str
) -> None:
    files = {file_field: ("p.png", PICTURE, "image/png")}
    response = requests.post(server.url + path, files=files, data={field: value}, timeout=120)
    assert response.status_code == 400, response.text[:500]
    assert len(response.content) < SMALL, response.content[:2000]
    assert field in response.text and repr(value[:20])[1:-1] in response.text, "the field and its value's start"
    assert f"({len(value)} characters)" in response.text
    call = response.headers["X-Call-Id"]
    (line,) = [line for line in server.log().splitlines() if call in line]
    assert len(line) < SMALL, line[:2000]
