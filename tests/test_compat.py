"""Pixian's and remove.bg's requests, as their clients send them, over real HTTP with the real u2netp model."""

from __future__ import annotations

import base64
import io
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from tests.support import hostile, images
from tests.support.server import ServerProcess

PIXIAN = "/api/v2/remove-background"
REMOVEBG = "/v1.0/removebg"
PHOTO = images.photo("coffee")  # 600×400
SOURCE = images.jpeg(PHOTO)
TOKEN = "compat-token"


def _pixian(server: ServerProcess, data: dict | None = None, **kwargs: object) -> requests.Response:
    files = kwargs.pop("files", {"image": ("photo.jpg", SOURCE, "image/jpeg")})
    return requests.post(server.url + PIXIAN, files=files, data=data or {}, timeout=120, **kwargs)


def _removebg(server: ServerProcess, data: dict | None = None, **kwargs: object) -> requests.Response:
    files = kwargs.pop("files", {"image_file": ("photo.jpg", SOURCE, "image/jpeg")})
    return requests.post(server.url + REMOVEBG, files=files, data=data or {}, timeout=120, **kwargs)


def _image(response: requests.Response, content_type: str) -> Image.Image:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-Credits-Charged"] == "0"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    assert image.size == (int(response.headers["X-Width"]), int(response.headers["X-Height"]))
    return image


def _pixian_error(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (status, status)
    return error["message"]


def _removebg_error(response: requests.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"] == "application/json"
    (error,) = response.json()["errors"]
    assert error["code"] == code
    return error["title"]


# --- Pixian -----------------------------------------------------------------------------------


def test_pixian_s_defaults_are_a_transparent_png(server: ServerProcess) -> None:
    image = _image(_pixian(server, {"test": "true"}), "image/png")
    assert image.mode == "RGBA" and image.size == PHOTO.size
    alpha = np.asarray(image)[..., 3]
    assert (alpha == 0).any() and (alpha >= 254).any(), "the background gone, the subject kept"


def test_pixian_background_colour_makes_auto_a_jpeg_and_crop_margin_apply(server: ServerProcess) -> None:
    response = _pixian(
        server,
        {
            "background.color": "#0000FF",
            "result.crop_to_foreground": "true",
            "result.margin": "10px",
            "output.jpeg_quality": "90",
        },
    )
    image = _image(response, "image/jpeg")
    width, height = int(response.headers["X-Foreground-Width"]), int(response.headers["X-Foreground-Height"])
    assert image.size == (width + 20, height + 20)
    assert (response.headers["X-Foreground-Left"], response.headers["X-Foreground-Top"]) == ("10", "10")
    assert np.abs(np.asarray(image)[:5, :5].astype(int) - [0, 0, 255]).max() <= 8


def test_pixian_base64_urlencoded_target_size_and_max_pixels(server: ServerProcess) -> None:
    data = {
        "image.base64": base64.b64encode(SOURCE).decode(),
        "max_pixels": "60000",
        "result.target_size": "400 400",
        "result.vertical_alignment": "bottom",
        "output.format": "png",
    }
    response = requests.post(server.url + PIXIAN, data=data, timeout=120)  # application/x-www-form-urlencoded
    image = _image(response, "image/png")
    assert image.size == (400, 400)
    top, height = int(response.headers["X-Foreground-Top"]), int(response.headers["X-Foreground-Height"])
    assert top + height >= 390, "aligned to the bottom"


def _strip(width: int) -> dict:
    """A file part holding a `width`×10 picture."""
    return {"image": ("strip.png", images.encode(PHOTO.resize((width, 10)), "PNG"), "image/png")}


@pytest.mark.parametrize(
    ("width", "data", "named"),
    [
        (65501, {"output.format": "jpeg"}, "output.format"),
        (600, {"output.format": "jpeg", "result.target_size": "65501 100"}, "result.target_size"),
        (65535, {"result.margin": "0 1px"}, "result.margin"),
    ],
)
def test_pixian_refuses_a_side_its_format_cannot_hold_in_its_shape(
    server: ServerProcess, width: int, data: dict, named: str
) -> None:
    message = _pixian_error(_pixian(server, data, files=_strip(width)), 400)
    assert message.startswith(f"{named}: ")
    assert "output.format=png" in message or named == "result.margin"


def test_pixian_background_colour_on_a_strip_too_long_for_jpeg_is_a_png(server: ServerProcess) -> None:
    """auto chooses JPEG for an opaque result only where JPEG holds it: over 65500 px it was a 500."""
    image = _image(_pixian(server, {"background.color": "#0000FF"}, files=_strip(65501)), "image/png")
    assert image.size == (65501, 10)
    assert np.asarray(image.getchannel("A")).min() == 255, "opaque: over the colour"


def test_pixian_delta_png_is_the_input_s_size(server: ServerProcess) -> None:
    image = _image(_pixian(server, {"output.format": "delta_png"}), "image/png")
    assert image.size == PHOTO.size
    pixels = np.asarray(image.convert("RGBA"))
    assert ((pixels == [255, 255, 255, 0]).all(axis=-1)).sum() > 10_000


@pytest.mark.parametrize(
    ("size", "data", "words"),
    [
        ((600, 400), {"max_pixels": "239999"}, "600×400 = 240000 pixels, over the max_pixels of 239999 sent"),
        ((6000, 5000), {}, "6000×5000 = 30000000 pixels, over the function's MAX_PIXELS of 25000000"),
    ],
)
def test_pixian_delta_png_that_would_be_scaled_is_refused_in_its_shape(
    server: ServerProcess, size: tuple[int, int], data: dict, words: str
) -> None:
    """Pixian's max_pixels shrinks a larger input; Delta PNG, the input's own size, is refused instead."""
    files = {"image": ("photo.jpg", images.jpeg(PHOTO.resize(size)), "image/jpeg")}
    message = _pixian_error(_pixian(server, {"output.format": "delta_png", **data}, files=files), 400)
    assert message.startswith("output.format: delta_png ") and words in message


@pytest.mark.parametrize(
    ("data", "files", "status", "words"),
    [
        ({"image.url": "http://169.254.169.254/latest/meta-data"}, {}, 400, "never fetches URLs"),
        ({}, {"photo": ("a.jpg", SOURCE)}, 400, "send the image as image"),
        ({"output.format": "tiff"}, None, 400, "output.format: expected one of"),
        ({"background.color": "blue-ish"}, None, 400, "background.color: expected a colour"),
        ({"result.margin": "1 2 3 4 5"}, None, 400, "result.margin: expected 1 to 4"),
        ({}, {"image": ("a.jpg", b"\xff\xd8\xff broken")}, 400, "corrupt"),
        ({}, {"image": ("a.txt", b"hello")}, 415, "not an image"),
    ],
)
def test_pixian_errors_in_its_shape(server: ServerProcess, data: dict, files, status: int, words: str) -> None:
    kwargs = {} if files is None else {"files": files or {"note": (None, "x")}}
    assert words in _pixian_error(_pixian(server, data, **kwargs), status)


# --- remove.bg --------------------------------------------------------------------------------


def test_remove_bg_defaults_and_headers(server: ServerProcess) -> None:
    response = _removebg(server)
    image = _image(response, "image/png")
    assert image.mode == "RGBA" and image.size == PHOTO.size
    for name in ("X-Foreground-Top", "X-Foreground-Left", "X-Foreground-Width", "X-Foreground-Height"):
        assert int(response.headers[name]) >= 0
    assert int(response.headers["X-Foreground-Width"]) > 100


def test_remove_bg_zip_alpha_channel_crop_and_size(server: ServerProcess) -> None:
    response = _removebg(server, {"format": "zip", "size": "preview"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        color = Image.open(io.BytesIO(archive.read("color.jpg")))
        alpha = Image.open(io.BytesIO(archive.read("alpha.png")))
    assert color.size == alpha.size and color.size[0] * color.size[1] <= 250_000
    mask = _image(_removebg(server, {"channels": "alpha", "crop": "true", "crop_margin": "5%"}), "image/png")
    assert mask.mode == "L"
    assert not np.asarray(mask)[0].any(), "the margin around the crop is empty"


def test_remove_bg_json_body_with_base64_and_a_named_colour(server: ServerProcess) -> None:
    body = {"image_file_b64": base64.b64encode(SOURCE).decode(), "bg_color": "green", "format": "auto"}
    image = _image(requests.post(server.url + REMOVEBG, json=body, timeout=120), "image/jpeg")
    assert image.mode == "RGB"


@pytest.mark.parametrize(
    ("data", "files", "status", "code"),
    [
        ({"image_url": "http://127.0.0.1:1/"}, {}, 400, "unsupported_option"),
        ({}, {"note": (None, "x")}, 400, "missing_source"),
        ({"image_file_b64": base64.b64encode(SOURCE).decode()}, None, 400, "multiple_sources"),
        ({}, {"image_file": ("a.jpg", b"\xff\xd8\xff broken")}, 400, "failed_to_read_image"),
        ({}, {"image_file": ("a.pdf", b"%PDF-1.4 not an image")}, 415, "invalid_file_type"),
        ({"bg_color": "#12345"}, None, 400, "invalid_bg_color"),
        ({"format": "bmp"}, None, 400, "invalid_option"),
        ({"size": "gigantic"}, None, 400, "invalid_option"),
    ],
)
def test_remove_bg_errors_in_its_shape(server: ServerProcess, data: dict, files, status: int, code: str) -> None:
    kwargs = {} if files is None else {"files": files}
    assert _removebg_error(_removebg(server, data, **kwargs), status, code)


def test_remove_bg_zip_too_long_for_its_color_jpg_is_refused_and_its_colour_is_a_png(server: ServerProcess) -> None:
    files = {"image_file": _strip(65501)["image"]}
    title = _removebg_error(_removebg(server, {"format": "zip"}, files=files), 400, "output_too_large")
    assert title.startswith("format: ") and "color.jpg" in title and "format=png" in title
    image = _image(_removebg(server, {"bg_color": "white"}, files=files), "image/png")
    assert image.size == (65501, 10)


def test_a_pixel_bomb_is_resolution_too_high_for_remove_bg(server: ServerProcess) -> None:
    bomb = hostile.jpeg_claiming(20000, 20000)
    assert _removebg_error(_removebg(server, files={"image_file": ("b.png", bomb)}), 413, "resolution_too_high")


def test_the_compatible_routes_are_counted_by_name(server: ServerProcess) -> None:
    _pixian(server, {"output.format": "nope"})
    metrics = server.metrics()
    assert f'remove_bg_requests_total{{route="{PIXIAN}",status="400"}}' in metrics
    assert f'remove_bg_requests_total{{route="{REMOVEBG}",status="200"}}' in metrics
    assert 'remove_bg_errors_total{code="invalid_option"}' in metrics, "counted by our code, whatever the shape"


# --- the template's own refusals, in each route's shape ---------------------------------------


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory):
    """A server with a token and small limits, for the refusals the template answers itself."""
    folder: Path = tmp_path_factory.mktemp("guarded")
    (folder / "token").write_text(TOKEN)
    env = {"REMBG_MODEL": "u2netp", "TOKEN_FILE": str(folder / "token"), "MAX_INFLIGHT": "1"}
    server = ServerProcess(folder / "server.log", {**env, "MAX_BODY_BYTES": "3000000"}).wait_ready()
    yield server
    server.stop()


def test_credentials_pixian_s_basic_and_remove_bg_s_api_key(guarded: ServerProcess) -> None:
    assert "token" in _pixian_error(_pixian(guarded), 401)
    assert _removebg_error(_removebg(guarded), 401, "auth_failed")
    assert _image(_pixian(guarded, auth=("pixian-api-id", TOKEN)), "image/png")
    assert _image(_removebg(guarded, headers={"X-Api-Key": TOKEN}), "image/png")
    assert _pixian_error(_pixian(guarded, auth=("pixian-api-id", "wrong")), 401)


def test_a_body_over_the_limit_is_refused_in_the_route_s_shape(guarded: ServerProcess) -> None:
    big = b"\xff\xd8\xff" + bytes(3_100_000)
    headers = {"X-Api-Key": TOKEN, "Content-Type": "image/jpeg"}
    response = requests.post(guarded.url + REMOVEBG, data=big, headers=headers, timeout=60)
    assert "MAX_BODY_BYTES" in _removebg_error(response, 413, "file_too_large")
    response = requests.post(guarded.url + PIXIAN, data=big, headers=headers, timeout=60)
    assert "MAX_BODY_BYTES" in _pixian_error(response, 413)


def test_busy_is_a_429_in_the_route_s_shape_with_retry_after(guarded: ServerProcess) -> None:
    slow = images.jpeg(images.photo("astronaut").resize((3000, 3000)))
    headers = {"X-Api-Key": TOKEN}
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(guarded.post, slow, headers=headers)
        guarded.wait_in_flight()
        response = _removebg(guarded, headers=headers)
        assert _removebg_error(response, 429, "rate_limit_exceeded")
        assert response.headers["Retry-After"] == "1"
        response = _pixian(guarded, headers=headers)
        assert _pixian_error(response, 429)
        assert response.headers["Retry-After"] == "1"
        assert first.result().status_code == 200
