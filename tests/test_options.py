"""Output options on our own route, over real HTTP with the real u2netp model."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import requests
from PIL import Image

from harness.pngs import header_claiming
from tests.support import images
from tests.support.checks import assert_error
from tests.support.server import ServerProcess

PHOTO = images.photo("astronaut")  # 512×512, its subject fills the frame's lower part
SOURCE = images.encode(PHOTO, "PNG")  # lossless, so "the original pixel" is known exactly
FOREGROUND_HEADERS = ("X-Foreground-Left", "X-Foreground-Top", "X-Foreground-Width", "X-Foreground-Height")


def _post(server: ServerProcess, body: bytes = SOURCE, **params: str) -> requests.Response:
    return requests.post(server.url + "/remove-background", data=body, params=params, timeout=120)


def _ok(response: requests.Response, content_type: str) -> Image.Image:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == content_type
    image = Image.open(io.BytesIO(response.content))
    image.load()
    assert image.size == (int(response.headers["X-Width"]), int(response.headers["X-Height"]))
    assert response.headers["X-Model"] == "u2netp"
    return image


def _foreground(response: requests.Response) -> tuple[int, int, int, int]:
    left, top, width, height = (int(response.headers[name]) for name in FOREGROUND_HEADERS)
    return (left, top, width, height)


@pytest.fixture(scope="module")
def plain(server: ServerProcess) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The default cut-out (RGBA PNG) and its foreground box, which the options are checked against."""
    response = _post(server)
    image = _ok(response, "image/png")
    return np.asarray(image), _foreground(response)


def test_every_success_says_where_the_foreground_is(plain) -> None:
    pixels, (left, top, width, height) = plain
    alpha = pixels[..., 3]
    assert width > 0 and height > 0
    rows, columns = np.nonzero(alpha >= 32)
    assert (left, top) == (columns.min(), rows.min())
    assert (left + width, top + height) == (columns.max() + 1, rows.max() + 1)


def test_crop_margin_background_and_jpeg_together(server: ServerProcess, plain) -> None:
    pixels, (left, top, width, height) = plain
    response = _post(server, format="jpeg", crop="true", margin="20px 10%", bg_color="#ff0000", quality="95")
    image = _ok(response, "image/jpeg")
    margin_x = round(width * 0.1)
    assert image.mode == "RGB"
    assert image.size == (width + 2 * margin_x, height + 40)
    assert _foreground(response) == (margin_x, 20, width, height)
    out = np.asarray(image).astype(int)
    assert np.abs(out[:10, :10] - [255, 0, 0]).max() <= 8, "the margin is the background colour"
    cut = pixels[top : top + height, left : left + width]
    solid = cut[..., 3] == 255
    inner = out[20 : 20 + height, margin_x : margin_x + width]
    assert np.abs(inner[solid] - cut[solid][:, :3]).mean() < 4, "the subject is where the box says, in its colours"


def test_jpeg_without_a_colour_is_on_white(server: ServerProcess, plain) -> None:
    image = _ok(_post(server, format="jpg"), "image/jpeg")
    transparent = plain[0][..., 3] == 0
    assert np.asarray(image)[transparent].mean() > 250


@pytest.mark.parametrize(("quality", "lossless"), [(None, True), ("80", False)])
def test_webp_keeps_the_alpha(server: ServerProcess, plain, quality: str | None, lossless: bool) -> None:
    params = {"format": "webp", **({"quality": quality} if quality else {})}
    image = _ok(_post(server, **params), "image/webp")
    assert image.mode == "RGBA"
    alpha = np.asarray(image)[..., 3].astype(int)
    expected = plain[0][..., 3].astype(int)
    assert np.abs(alpha - expected).max() == 0 if lossless else np.abs(alpha - expected).mean() < 2


def test_only_the_mask_as_grayscale(server: ServerProcess, plain) -> None:
    image = _ok(_post(server, only_mask="true"), "image/png")
    assert image.mode == "L"
    assert np.array_equal(np.asarray(image), plain[0][..., 3])


def test_delta_png_composited_over_the_original_is_the_cutout(server: ServerProcess, plain) -> None:
    image = _ok(_post(server, format="delta_png"), "image/png")
    delta = np.asarray(image.convert("RGBA")).astype(int)
    keep = (delta == [255, 255, 255, 0]).all(axis=-1)
    background = (delta == 0).all(axis=-1)
    assert keep.any() and background.any() and (~keep & ~background).any()
    rebuilt = delta.copy()
    rebuilt[keep] = np.concatenate([np.asarray(PHOTO)[keep], np.full((keep.sum(), 1), 255)], axis=1)
    cutout = plain[0].astype(int)
    assert np.abs(rebuilt[..., 3] - cutout[..., 3]).max() <= 1, "alpha within 1/255"
    seen = rebuilt[..., 3] > 0
    assert np.array_equal(rebuilt[seen][:, :3], cutout[seen][:, :3]), "and the colours wherever they show"
    assert len(_post(server, format="delta_png").content) < len(_post(server).content) * 0.6


# Delta PNG is the input's own size: one the pixel limit would scale is refused from the header (it was served at
# 5477×4564 for a 6000×5000 photo, a picture the client cannot composite with its original).
@pytest.mark.parametrize("whole", [True, False], ids=["photo", "header only"])
def test_a_delta_png_over_max_pixels_is_refused_naming_the_limit_and_the_size(server: ServerProcess, whole) -> None:
    """Over the function's MAX_PIXELS (25 MP): decided from the header, so a PNG with no pixel data gets the
    same answer, not corrupt_image."""
    body = images.jpeg(PHOTO.resize((6000, 5000))) if whole else header_claiming(6000, 5000)
    response = _post(server, body, format="delta_png")
    assert_error(response, 400, "output_too_large")
    message = response.json()["error"]["message"]
    assert message.startswith("format: delta_png ") and "6000×5000" in message and "MAX_PIXELS of 25000000" in message


def test_a_delta_png_over_the_request_s_max_pixels_is_refused_naming_it(server: ServerProcess) -> None:
    response = _post(server, max_pixels=str(PHOTO.width * PHOTO.height - 1), format="delta_png")
    assert_error(response, 400, "output_too_large")
    message = response.json()["error"]["message"]
    assert "512×512" in message and f"max_pixels of {512 * 512 - 1} sent" in message
    assert "at least 262144" in message


def test_a_delta_png_at_the_request_s_max_pixels_is_served_at_its_size(server: ServerProcess) -> None:
    image = _ok(_post(server, max_pixels=str(PHOTO.width * PHOTO.height), format="delta_png"), "image/png")
    assert image.size == PHOTO.size


def test_zip_holds_the_colours_and_the_alpha(server: ServerProcess, plain) -> None:
    response = _post(server, format="zip")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == ["alpha.png", "color.jpg"]
        color = Image.open(io.BytesIO(archive.read("color.jpg")))
        alpha = Image.open(io.BytesIO(archive.read("alpha.png")))
    assert color.mode == "RGB" and alpha.mode == "L"
    assert color.size == alpha.size == PHOTO.size
    assert np.array_equal(np.asarray(alpha), plain[0][..., 3])


@pytest.mark.parametrize(("params", "size"), [({"max_pixels": "10000"}, (100, 100)), ({"size": "preview"}, (500, 500))])
def test_the_output_size_can_be_limited(server: ServerProcess, params: dict, size: tuple[int, int]) -> None:
    big = images.encode(PHOTO.resize((1000, 1000)), "PNG")
    image = _ok(_post(server, big, **params), "image/png")
    assert image.size == size
    assert _foreground(_post(server, big, **params))[2] <= size[0]


def test_a_target_size_is_filled_and_aligned(server: ServerProcess) -> None:
    response = _post(server, crop="1", target_size="600 300", vertical_alignment="top")
    image = _ok(response, "image/png")
    assert image.size == (600, 300)
    left, top, width, height = _foreground(response)
    assert top == 0 and height == 300 and left == (600 - width) // 2
    alpha = np.asarray(image)[..., 3]
    assert not alpha[:, : left - 1].any() and not alpha[:, left + width + 1 :].any()


def test_options_can_come_as_form_fields(server: ServerProcess) -> None:
    files = {"image": ("photo.png", SOURCE, "image/png")}
    response = requests.post(server.url + "/", files=files, data={"format": "webp", "crop": "true"}, timeout=120)
    image = _ok(response, "image/webp")
    assert image.size == tuple(int(response.headers[name]) for name in ("X-Foreground-Width", "X-Foreground-Height"))


def test_nothing_found_is_a_transparent_image_not_an_error(server: ServerProcess) -> None:
    clear = images.encode(Image.new("RGBA", (300, 200), (40, 200, 90, 0)), "PNG")
    for params in ({}, {"crop": "true"}, {"format": "webp"}):
        response = _post(server, clear, **params)
        image = _ok(response, "image/webp" if params.get("format") else "image/png")
        assert image.size == (300, 200)
        assert np.asarray(image.convert("RGBA"))[..., 3].max() == 0
        assert _foreground(response) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("format", "gif"),
        ("quality", "101"),
        ("bg_color", "#12345"),
        ("crop", "perhaps"),
        ("margin", "5em"),
        ("only_mask", "2"),
        ("size", "huge"),
        ("max_pixels", "99"),
        ("target_size", "100"),
        ("vertical_alignment", "left"),
    ],
)
def test_each_invalid_value_is_a_400_naming_its_field(server: ServerProcess, field: str, value: str) -> None:
    response = _post(server, **{field: value})
    assert_error(response, 400, "invalid_option")
    assert response.json()["error"]["message"].startswith(f"{field}: ")


def test_a_format_that_cannot_carry_the_other_options_is_refused(server: ServerProcess) -> None:
    response = _post(server, format="delta_png", crop="true")
    assert_error(response, 400, "invalid_option")
    assert "delta_png" in response.json()["error"]["message"]


# --- each format's longest side (output/limits.py): refused from the layout, never a 500 from the encoder ---


def _strip(width: int, height: int = 10) -> bytes:
    return images.encode(PHOTO.resize((width, height)), "PNG")


@pytest.mark.parametrize(
    ("width", "params", "named"),
    [
        (65501, {"format": "jpeg"}, "format"),
        (65501, {"format": "jpeg", "only_mask": "true"}, "format"),
        (65501, {"format": "zip"}, "format"),
        (16384, {"format": "webp"}, "format"),
        (65500, {"format": "jpeg", "margin": "0 1px"}, "margin"),
        (65535, {"margin": "0 0 0 1px"}, "margin"),
        (200, {"format": "jpeg", "target_size": "65501x100"}, "target_size"),
        (200, {"format": "webp", "target_size": "16384 100"}, "target_size"),
    ],
)
def test_a_side_longer_than_the_format_holds_is_a_400_naming_the_option(
    server: ServerProcess, width: int, params: dict, named: str
) -> None:
    """libjpeg writes 65500 px a side, libwebp 16383, and the function 65535: past them a JPEG was a 500 and a
    WebP was scaled down behind the client's back."""
    response = _post(server, _strip(width), **params)
    assert_error(response, 400, "output_too_large")
    message = response.json()["error"]["message"]
    assert message.startswith(f"{named}: ") and "; send " in message


@pytest.mark.parametrize(
    ("width", "params", "content_type"),
    [
        (65500, {"format": "jpeg"}, "image/jpeg"),
        (16383, {"format": "webp"}, "image/webp"),
        (65535, {}, "image/png"),
        (65501, {"format": "auto", "bg_color": "#ffffff"}, "image/png"),  # auto: JPEG only where JPEG holds it
    ],
)
def test_the_longest_side_each_format_holds_is_served(
    server: ServerProcess, width: int, params: dict, content_type: str
) -> None:
    image = _ok(_post(server, _strip(width), **params), content_type)
    assert image.size == (width, 10)


def test_a_target_size_a_jpeg_holds_is_served(server: ServerProcess) -> None:
    image = _ok(_post(server, format="jpeg", target_size="65500 20"), "image/jpeg")
    assert image.size == (65500, 20)
