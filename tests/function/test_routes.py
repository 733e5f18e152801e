"""Each dialect's fields read into the same Options, its image sources, and its error shape."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest
from urllib3 import encode_multipart_formdata

from function.errors import EmptyBody, InvalidOption, MultipleImages, NoImage, UnsupportedOption
from function.request.options import Options, margin
from function.request.routes import OWN, PIXIAN_PATH, REMOVEBG_PATH, route_for

PICTURE = b"\xff\xd8\xff\xe0 not decoded here"
PIXIAN, REMOVEBG = route_for(PIXIAN_PATH), route_for(REMOVEBG_PATH)


def test_every_other_path_is_ours() -> None:
    assert route_for("/") is OWN and route_for("/remove-background") is OWN and route_for("/anything") is OWN


def test_our_route_takes_the_raw_body_and_query_options() -> None:
    request = OWN.read(PICTURE, "image/jpeg", {"format": "jpg", "bg_color": "fff", "crop": "1", "margin": "5%"})
    assert request.image == PICTURE
    assert request.options == Options(format="jpeg", bg_color=(255, 255, 255, 255), crop=True, margin=margin("m", "5%"))


def test_our_route_takes_form_fields_over_the_query() -> None:
    body, content_type = encode_multipart_formdata({"file": ("a.jpg", PICTURE), "format": "webp", "quality": "80"})
    request = OWN.read(body, content_type, {"format": "png", "only_mask": "true", "size": "preview"})
    assert request.image == PICTURE
    assert request.options == Options(format="webp", quality=80, only_mask=True, max_pixels=250_000)


def test_our_route_names_the_file_fields_it_looks_for() -> None:
    body, content_type = encode_multipart_formdata({"picture": ("a.jpg", PICTURE)})
    with pytest.raises(NoImage, match="image, file, image_file"):
        OWN.read(body, content_type, {})
    body, content_type = encode_multipart_formdata({"image": ("a.jpg", b"")})
    with pytest.raises(EmptyBody, match="form part"):
        OWN.read(body, content_type, {})


def test_pixian_fields_and_defaults() -> None:
    assert PIXIAN.read(PICTURE, "image/jpeg", {}).options == Options(format="auto", quality=75)
    body = urlencode(
        [
            ("image.base64", base64.b64encode(PICTURE).decode()),
            ("test", "true"),
            ("max_pixels", "1000000"),
            ("background.color", "#00ff00"),
            ("result.crop_to_foreground", "true"),
            ("result.margin", "10px 5%"),
            ("result.target_size", "800 600"),
            ("result.vertical_alignment", "bottom"),
            ("output.format", "jpeg"),
            ("output.jpeg_quality", "60"),
        ]
    )
    request = PIXIAN.read(body.encode(), "application/x-www-form-urlencoded", {})
    assert request.image == PICTURE
    assert request.options == Options(
        format="jpeg",
        quality=60,
        bg_color=(0, 255, 0, 255),
        crop=True,
        margin=margin("m", "10px 5%"),
        max_pixels=1_000_000,
        target_size=(800, 600),
        vertical_alignment="bottom",
    )


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"image.url": "http://169.254.169.254/"}, UnsupportedOption, "image.url: this function never fetches"),
        ({}, NoImage, "send the image as image"),
        ({"image.base64": "AAAA", "image": ("a.jpg", PICTURE)}, MultipleImages, "send the image once"),
        ({"image": ("a.jpg", PICTURE), "max_pixels": "99"}, InvalidOption, "max_pixels: must be from 100 to 25000000"),
        ({"image": ("a.jpg", PICTURE), "output.format": "webp"}, InvalidOption, "output.format: expected one of"),
        (
            {"image": ("a.jpg", PICTURE), "output.format": "delta_png", "result.crop_to_foreground": "true"},
            InvalidOption,
            "output.format: delta_png",
        ),
        ({"image": ("a.jpg", PICTURE), "test": "sometimes"}, InvalidOption, "test: expected true or false"),
    ],
)
def test_pixian_refusals(fields: dict, error: type, message: str) -> None:
    body, content_type = encode_multipart_formdata(fields or {"note": "no image"})
    with pytest.raises(error, match=f"^{message}"):
        PIXIAN.read(body, content_type, {})


def test_remove_bg_fields_json_and_the_margin_only_around_a_crop() -> None:
    body = json.dumps(
        {"image_file_b64": base64.b64encode(PICTURE).decode(), "size": "preview", "format": "zip", "bg_color": ""}
    ).encode()
    request = REMOVEBG.read(body, "application/json", {})
    assert request.image == PICTURE
    assert request.options == Options(format="zip", max_pixels=250_000)
    body, content_type = encode_multipart_formdata({"image_file": ("a.png", PICTURE), "crop_margin": "10%"})
    assert REMOVEBG.read(body, content_type, {}).options == Options(format="auto")
    body, content_type = encode_multipart_formdata(
        {"image_file": ("a.png", PICTURE), "crop": "true", "crop_margin": "10%", "channels": "alpha", "format": "jpg"}
    )
    assert REMOVEBG.read(body, content_type, {}).options == Options(
        format="jpeg", crop=True, margin=margin("m", "10%"), only_mask=True
    )


@pytest.mark.parametrize("name", ["image_url", "bg_image_url", "roi", "scale", "position"])
def test_remove_bg_options_this_function_does_not_have_are_refused(name: str) -> None:
    body, content_type = encode_multipart_formdata({"image_file": ("a.png", PICTURE), name: "x"})
    with pytest.raises(UnsupportedOption, match=f"^{name}: "):
        REMOVEBG.read(body, content_type, {})


def test_each_route_s_error_shape() -> None:
    error = InvalidOption("bg_color", "expected a colour")
    assert json.loads(OWN.error(error)) == {
        "error": {"status": 400, "code": "invalid_option", "message": "bg_color: expected a colour"}
    }
    assert json.loads(PIXIAN.error(error)) == {
        "error": {"status": 400, "code": 400, "message": "bg_color: expected a colour"}
    }
    assert json.loads(REMOVEBG.error(error)) == {
        "errors": [{"code": "invalid_bg_color", "title": "bg_color: expected a colour"}]
    }
    assert json.loads(REMOVEBG.error(MultipleImages("once"))) == {
        "errors": [{"code": "multiple_sources", "title": "once"}]
    }
    assert json.loads(REMOVEBG.error_body(413, "body_too_large", "too big"))["errors"][0]["code"] == "file_too_large"


def test_an_image_sent_as_a_text_part_is_refused_clearly() -> None:
    body, content_type = encode_multipart_formdata({"image": "\xff\xd8 text, no filename"})
    with pytest.raises(NoImage, match="must be a file part"):
        PIXIAN.read(body, content_type, {})
    with pytest.raises(NoImage, match="image must be a file part"):  # the fuzz's multipart parts: no filename
        OWN.read(body, content_type, {})
    body, content_type = encode_multipart_formdata({"image_file_b64": ("b64.txt", base64.b64encode(PICTURE))})
    assert REMOVEBG.read(body, content_type, {}).image == PICTURE
