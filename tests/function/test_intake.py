"""Finding the image in a request body: raw, or one file part of a multipart form."""

from __future__ import annotations

import pytest
from urllib3 import encode_multipart_formdata

from function.errors import EmptyBody, NoImage
from function.intake import FILE_FIELDS, image_bytes

PICTURE = b"\xff\xd8\xff\xe0 not decoded here"


@pytest.mark.parametrize(
    "content_type", [None, "image/jpeg", "application/octet-stream", "application/x-www-form-urlencoded"]
)
def test_a_body_that_is_not_a_multipart_form_is_the_image(content_type: str | None) -> None:
    assert image_bytes(PICTURE, content_type) == PICTURE


@pytest.mark.parametrize("field", FILE_FIELDS)
def test_the_image_is_taken_from_its_form_part(field: str) -> None:
    body, content_type = encode_multipart_formdata({"note": "hello", field: ("photo.jpg", PICTURE)})
    assert image_bytes(body, content_type) == PICTURE


def test_the_first_known_field_wins() -> None:
    body, content_type = encode_multipart_formdata({"file": ("b.jpg", b"second"), "image": ("a.jpg", PICTURE)})
    assert image_bytes(body, content_type) == PICTURE


def test_an_empty_body_is_refused() -> None:
    with pytest.raises(EmptyBody, match="body is empty"):
        image_bytes(b"", "image/jpeg")


def test_a_form_without_an_image_part_names_the_fields_it_looks_for() -> None:
    body, content_type = encode_multipart_formdata({"picture": ("a.jpg", PICTURE)})
    with pytest.raises(NoImage, match="image, file, image_file"):
        image_bytes(body, content_type)


def test_an_empty_image_part_is_refused() -> None:
    body, content_type = encode_multipart_formdata({"image": ("a.jpg", b"")})
    with pytest.raises(EmptyBody, match="form part"):
        image_bytes(body, content_type)


def test_a_form_without_its_boundary_has_no_image() -> None:
    with pytest.raises(NoImage):
        image_bytes(b"--x\r\n\r\n", "multipart/form-data")
