"""Reading a request body: a raw image, or a form's files and fields; base64 images."""

from __future__ import annotations

import base64
import json
import tempfile

import pytest
from urllib3 import encode_multipart_formdata

from function.errors import CorruptImage, EmptyBody, InvalidOption
from function.request.intake import JSON, URLENCODED, decode_base64, read_form

PICTURE = b"\xff\xd8\xff\xe0 not decoded here"


@pytest.mark.parametrize("content_type", [None, "image/jpeg", "application/octet-stream", URLENCODED, JSON])
def test_a_body_that_is_not_a_multipart_form_is_raw(content_type: str | None) -> None:
    assert read_form(PICTURE, content_type) is None


def test_a_multipart_form_gives_its_files_and_fields_first_value_winning() -> None:
    body, content_type = encode_multipart_formdata(
        [("format", "webp"), ("image", ("a.jpg", PICTURE)), ("format", "jpeg"), ("image", ("b.jpg", b"second"))]
    )
    form = read_form(body, content_type)
    assert form is not None
    assert form.files == {"image": PICTURE}
    assert form.fields == {"format": "webp"}


def test_urlencoded_and_json_are_forms_only_where_asked() -> None:
    form = read_form(b"output.format=png&max_pixels=100", URLENCODED, also=(URLENCODED,))
    assert form is not None and form.fields == {"output.format": "png", "max_pixels": "100"}
    body = json.dumps({"size": "full", "crop": True, "bg_color": None}).encode()
    form = read_form(body, JSON, also=(JSON,))
    assert form is not None and form.fields == {"size": "full", "crop": "true"}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
def test_a_json_body_that_is_not_an_object_is_an_invalid_option(body: bytes) -> None:
    with pytest.raises(InvalidOption, match="JSON body"):
        read_form(body, JSON, also=(JSON,))


def test_an_empty_body_is_refused() -> None:
    with pytest.raises(EmptyBody, match="body is empty"):
        read_form(b"", "image/jpeg")


def test_a_form_without_its_boundary_has_nothing_in_it() -> None:
    form = read_form(b"--x\r\n\r\n", "multipart/form-data")
    assert form is not None and not form.files and not form.fields


@pytest.mark.parametrize(
    "text",
    [
        base64.b64encode(PICTURE).decode(),
        "data:image/jpeg;base64," + base64.b64encode(PICTURE).decode(),
        "\n".join(base64.encodebytes(PICTURE).decode().split()),
    ],
)
def test_base64_images_are_decoded(text: str) -> None:
    assert decode_base64("image.base64", text) == PICTURE


def test_bad_or_empty_base64_is_a_clear_error() -> None:
    with pytest.raises(CorruptImage, match=r"image\.base64 is not valid base64"):
        decode_base64("image.base64", "@@@not base64")
    with pytest.raises(EmptyBody, match="image_file_b64 is empty"):
        decode_base64("image_file_b64", "")


def test_json_nested_past_the_parser_s_stack_is_an_invalid_option() -> None:
    with pytest.raises(InvalidOption, match="JSON body"):
        read_form(b"[" * 200_000 + b"]" * 200_000, JSON, also=(JSON,))


def test_a_large_form_part_never_touches_a_temporary_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Werkzeug spilled parts over 500 KB (the worker's own 1 MB photo) to /tmp, and a full /tmp was a 500:
    with no usable temporary directory at all, a 2 MB part is still read."""
    monkeypatch.setattr(tempfile, "tempdir", "/dev/null/no-temporary-files-here")
    picture = PICTURE * (2_000_000 // len(PICTURE))
    body, content_type = encode_multipart_formdata([("image", ("photo.jpg", picture))])
    form = read_form(body, content_type)
    assert form is not None and form.files == {"image": picture}
