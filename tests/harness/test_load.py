"""The load driver's judgement of an answer: a wrong one is counted, never lost to an exception."""

from __future__ import annotations

import json

import requests
from PIL import Image

from harness.load import Shot, check
from tests.support import images


def _response(status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    return response


def test_a_cutout_must_decode_at_the_photos_size() -> None:
    photo = Shot("photo", b"", (4, 3))
    png = images.encode(Image.new("RGBA", (4, 3)), "PNG")
    assert check(photo, _response(200, png))
    assert not check(photo, _response(200, images.encode(Image.new("RGBA", (3, 4)), "PNG")))
    assert not check(photo, _response(200, png[:40]))
    assert not check(photo, _response(200, b"<html>"))
    assert not check(photo, _response(400, png))


def test_a_hostile_body_must_get_a_4xx_json_error() -> None:
    hostile = Shot("bad", b"", None)
    error = json.dumps({"error": {"status": 400, "code": "corrupt_image", "message": "m"}}).encode()
    assert check(hostile, _response(400, error))
    assert not check(hostile, _response(400, b"<html>bad</html>"))
    assert not check(hostile, _response(500, error))
    assert not check(hostile, _response(400, b'{"detail": "x"}'))
