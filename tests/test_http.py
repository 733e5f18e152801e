"""The HTTP contract over real HTTP on loopback, with the real u2netp model (and u2net, the default)."""

from __future__ import annotations

import io
import json
import re
import socket

import numpy as np
import pytest
import requests
from PIL import Image

from function import handler
from tests.support import images
from tests.support.checks import (
    PARITY_LIMIT,
    alpha_of,
    assert_cutout,
    assert_error,
    decode_peaks,
    mean_alpha_difference,
    peak_rss_kb,
    rembg_remove,
    reset_peak,
)
from tests.support.openapi import assert_documented
from tests.support.server import MODEL_HOME, ServerProcess

# --- parity with rembg.remove() -------------------------------------------------------------


@pytest.mark.parametrize("name", images.PHOTOS)
def test_alpha_matches_rembg_u2netp(server: ServerProcess, rembg_sessions, name: str) -> None:
    body = images.jpeg(images.photo(name))
    response = server.post(body)
    assert_cutout(response, images.photo(name).size)
    assert mean_alpha_difference(response.content, rembg_remove(rembg_sessions, "u2netp", body)) <= PARITY_LIMIT


@pytest.mark.other_models
def test_the_parity_mode_is_rembg_s_u2net(parity_server: ServerProcess, rembg_sessions) -> None:
    assert "model u2net loaded" in parity_server.log()
    body = images.jpeg(images.photo("astronaut"))
    response = parity_server.post(body)
    assert_cutout(response, (512, 512))
    assert response.headers["X-Model"] == "u2net"
    assert mean_alpha_difference(response.content, rembg_remove(rembg_sessions, "u2net", body)) <= PARITY_LIMIT


@pytest.mark.other_models
def test_the_default_model_is_u2net_int8_from_its_optimised_copy(default_server: ServerProcess) -> None:
    """The default is the int8 u2net (its quality judged on ground truth: tests/test_quantized.py)."""
    assert re.search(
        r"model u2net-int8 loaded from its optimised copy \S+/optimized/custom/u2net-int8\.[0-9a-f]{16}\.onnx",
        default_server.log(),
    )
    response = default_server.post(images.jpeg(images.photo("astronaut")))
    assert_cutout(response, (512, 512))
    assert response.headers["X-Model"] == "u2net-int8"


def test_the_cutout_keeps_the_foreground_colours(server: ServerProcess) -> None:
    source = images.photo("astronaut")
    image = assert_cutout(server.post(images.encode(source, "PNG")), source.size)
    pixels = np.asarray(image)
    kept = pixels[..., 3] > 0
    assert kept.sum() > 10_000
    assert np.array_equal(pixels[kept][:, :3], np.asarray(source)[kept])


# --- how the image arrives ------------------------------------------------------------------


def test_raw_body_with_faas_cli_content_type(server: ServerProcess) -> None:
    response = server.post(images.jpeg(), headers={"Content-Type": "text/plain"})
    assert_cutout(response, (512, 512))


def test_raw_body_as_curl_sends_it(server: ServerProcess) -> None:
    # curl --data-binary labels the body application/x-www-form-urlencoded
    response = server.post(images.jpeg(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_cutout(response, (512, 512))


@pytest.mark.parametrize("field", ["image", "file", "image_file"])
@pytest.mark.parametrize("path", ["/", "/remove-background"])
def test_multipart_fields_and_paths(server: ServerProcess, field: str, path: str) -> None:
    files = {field: ("image.png", images.encode(images.photo("coffee"), "PNG"), "image/png")}
    response = requests.post(server.url + path, files=files, data={"format": "png"}, timeout=60)
    assert_cutout(response, (600, 400))


def test_multipart_without_an_image_part(server: ServerProcess) -> None:
    files = {"photo": ("image.png", images.jpeg(), "image/png")}
    assert_error(requests.post(server.url, files=files, timeout=30), 400, "no_image")


def test_multipart_with_an_empty_image_part(server: ServerProcess) -> None:
    files = {"image": ("image.png", b"", "image/png")}
    assert_error(requests.post(server.url, files=files, timeout=30), 400, "empty_body")


# --- every input kind -----------------------------------------------------------------------


def _cmyk_jpeg() -> bytes:
    return images.jpeg(images.photo("chelsea").convert("CMYK"))


def _mpo() -> bytes:
    """A multi-picture JPEG, as many phones write: the first picture is the photo."""
    first = images.photo("chelsea")
    return images.encode(first, "MPO", save_all=True, append_images=[first.transpose(Image.Transpose.ROTATE_180)])


def _palette_png() -> bytes:
    return images.encode(images.photo("coffee").convert("P", palette=Image.Palette.ADAPTIVE), "PNG")


INPUTS = {
    "jpeg-baseline": (lambda: images.jpeg(images.photo("chelsea")), (451, 300)),
    "jpeg-progressive": (lambda: images.jpeg(images.photo("chelsea"), progressive=True), (451, 300)),
    "jpeg-cmyk": (_cmyk_jpeg, (451, 300)),
    "jpeg-mpo": (_mpo, (451, 300)),
    "png-8bit-rgb": (lambda: images.encode(images.photo("coffee"), "PNG"), (600, 400)),
    "png-16bit-rgb": (lambda: images.png16_rgb(images.photo("coffee")), (600, 400)),
    "png-16bit-gray": (lambda: images.png16_gray(images.photo("astronaut")), (512, 512)),
    "png-gray": (lambda: images.encode(images.photo("astronaut").convert("L"), "PNG"), (512, 512)),
    "png-palette": (_palette_png, (600, 400)),
    "webp": (lambda: images.encode(images.photo("chelsea"), "WEBP", quality=90), (451, 300)),
    "webp-lossless": (lambda: images.encode(images.photo("chelsea"), "WEBP", lossless=True), (451, 300)),
    "gif": (lambda: images.encode(images.photo("coffee"), "GIF"), (600, 400)),
    "bmp": (lambda: images.encode(images.photo("coffee"), "BMP"), (600, 400)),
    "tiff": (lambda: images.encode(images.photo("coffee"), "TIFF"), (600, 400)),
    "tiff-lzw": (lambda: images.encode(images.photo("coffee"), "TIFF", compression="tiff_lzw"), (600, 400)),
    "heic": (lambda: images.heic(images.photo("astronaut")), (512, 512)),
    "avif": (lambda: images.encode(images.photo("astronaut"), "AVIF", quality=90), (512, 512)),
}


def _decoded_rgb(body: bytes) -> Image.Image:
    return Image.open(io.BytesIO(body)).convert("RGB")


# The 8-bit picture each 16-bit input holds (Pillow's own conversion would clip 16-bit gray).
REFERENCES = {
    "png-16bit-rgb": lambda body: images.photo("coffee"),
    "png-16bit-gray": lambda body: images.photo("astronaut").convert("L").convert("RGB"),
}


@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_input_kinds(server: ServerProcess, rembg_sessions, kind: str) -> None:
    make, size = INPUTS[kind]
    body = make()
    response = server.post(body)
    assert_cutout(response, size)
    # The cut-out agrees with rembg run on the same picture decoded to 8-bit RGB.
    reference = REFERENCES.get(kind, _decoded_rgb)(body)
    theirs = rembg_remove(rembg_sessions, "u2netp", images.encode(reference, "PNG"))
    assert mean_alpha_difference(response.content, theirs) <= PARITY_LIMIT


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(server: ServerProcess, rembg_sessions, orientation: int) -> None:
    stored = images.photo("chelsea")  # 451×300
    body = images.jpeg_with_orientation(stored, orientation)
    upright = (300, 451) if orientation in (6, 8) else (451, 300)
    response = server.post(body)
    assert_cutout(response, upright)
    assert mean_alpha_difference(response.content, rembg_remove(rembg_sessions, "u2netp", body)) <= PARITY_LIMIT


def test_input_transparency_is_kept(server: ServerProcess) -> None:
    source = images.photo("astronaut").convert("RGBA")
    source.putalpha(Image.linear_gradient("L").resize(source.size).transpose(Image.Transpose.ROTATE_90))
    pixels = np.asarray(source).copy()
    pixels[:, :64, 3] = 0  # a fully transparent band on the left
    body = images.encode(Image.fromarray(pixels), "PNG")
    response = server.post(body)
    assert_cutout(response, (512, 512))
    alpha = alpha_of(response.content)
    assert not alpha[:, :64].any(), "transparent input must stay transparent"
    assert (alpha <= pixels[..., 3].astype(np.float64) + 1).all(), "the cut-out is never more opaque than the input"


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_images_use_the_first_frame(server: ServerProcess, rembg_sessions, fmt: str) -> None:
    first = images.photo("coffee")
    others = [first.transpose(Image.Transpose.FLIP_TOP_BOTTOM), first.transpose(Image.Transpose.ROTATE_180)]
    body = images.animated(fmt, [first, *others])
    assert Image.open(io.BytesIO(body)).n_frames == 3
    response = server.post(body)
    assert_cutout(response, (600, 400))
    first_frame = Image.open(io.BytesIO(body)).convert("RGB")
    theirs = rembg_remove(rembg_sessions, "u2netp", images.encode(first_frame, "PNG"))
    assert mean_alpha_difference(response.content, theirs) <= PARITY_LIMIT


# --- bad input: a 4xx JSON error, never a 500 -----------------------------------------------


def test_empty_body(server: ServerProcess) -> None:
    assert_error(server.post(b""), 400, "empty_body")


@pytest.mark.parametrize(
    "body",
    [
        b"hello, this is not an image",
        b"%PDF-1.7\n" + b"\x00" * 200,
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
        bytes(range(256)) * 8,
    ],
    ids=["text", "pdf", "svg", "noise"],
)
def test_not_an_image(server: ServerProcess, body: bytes) -> None:
    assert_error(server.post(body), 415, "unsupported_image")


def test_a_pillow_format_we_do_not_take(server: ServerProcess) -> None:
    body = images.encode(images.photo("coffee").resize((64, 64)), "ICO")
    assert_error(server.post(body), 415, "unsupported_image")


def _corrupt_bodies() -> dict[str, bytes]:
    jpeg = images.jpeg()
    png = images.encode(images.photo("coffee"), "PNG")
    return {
        "jpeg-truncated": jpeg[: len(jpeg) // 3],
        "jpeg-header-only": jpeg[:200],
        "png-truncated": png[: len(png) // 2],
        "png-bad-crc": png[:40] + bytes([png[40] ^ 0xFF]) + png[41:],
        "gif-truncated": images.encode(images.photo("coffee"), "GIF")[:300],
        "webp-truncated": images.encode(images.photo("coffee"), "WEBP")[:500],
        "heic-truncated": images.heic(images.photo("coffee"))[:400],
    }


@pytest.mark.parametrize("kind", sorted(_corrupt_bodies()))
def test_corrupt_image(server: ServerProcess, kind: str) -> None:
    assert_error(server.post(_corrupt_bodies()[kind]), 400, "corrupt_image")


def test_body_too_large_is_refused_from_its_content_length(server: ServerProcess) -> None:
    """The 413 comes back after the headers alone: the 31 MB body is never sent."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/jpeg\r\nContent-Length: 31000000\r\n\r\n"
        )
        response = b""
        while b"\r\n\r\n" not in response or not response.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"application/json" in head
    assert b'"code": "body_too_large"' in body
    assert b"MAX_BODY_BYTES" in body


def test_body_too_large_sent_whole(server: ServerProcess) -> None:
    response = server.post(b"\xff" * (30_000_001))
    assert_error(response, 413, "body_too_large")
    assert "MAX_BODY_BYTES" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "setting"),
    [
        (lambda: images.raw_png(20_000, 20_000, 1, 0, None), "MAX_INPUT_PIXELS"),
        (lambda: images.extended_webp(Image.new("RGB", (8000, 4000), "teal"), lossless=True, method=0), "60% of"),
        (lambda: images.raw_png(70_000, 1, 1, 0, None), "no setting raises it"),
    ],
    ids=["pixels", "WebP", "side"],
)
def test_every_413_names_what_would_raise_its_limit(server: ServerProcess, body, setting: str) -> None:
    """A newcomer's 413 for too many pixels once gave the limit without the setting; the body's named its own."""
    response = server.post(body())
    assert_error(response, 413, "image_too_large")
    assert setting in response.json()["error"]["message"]
    assert "MAX_INPUT_PIXELS" in response.json()["error"]["message"] or setting == "no setting raises it"


def test_a_truncated_jpeg_s_answer_keeps_the_decoder_s_words_in_the_log(server: ServerProcess) -> None:
    """Pillow's "image file is truncated (30 bytes not processed)" once reached the client. Its words go to the
    log on a line with the request's call id, which the answer carries: the line an operator (and this test,
    on a log the whole run shares) finds for that request."""
    whole = images.jpeg(images.photo("chelsea"))
    response = server.post(whole[: len(whole) // 2])
    assert_error(response, 400, "corrupt_image")
    message = response.json()["error"]["message"]
    assert "truncated or corrupt" in message and "bytes not processed" not in message and "(" not in message
    call_id = response.headers["X-Call-Id"]
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    prefix = "the image data cannot be decoded: "
    (said,) = [
        line["message"] for line in lines if line.get("call_id") == call_id and line["logger"] != "remove-bg.request"
    ]
    assert said.startswith(prefix) and said.removeprefix(prefix), "the decoder's own words, with the request's id"
    assert said.removeprefix(prefix) not in message


def test_image_too_large_is_refused_from_the_header(server: ServerProcess) -> None:
    """A valid 20000×20000 PNG of a few dozen KB: refused before a single pixel is decoded (400 MB at one
    byte a pixel). Measured for this request alone, on a server the whole run shares: the decode worker's
    peak for its upload against a small photo's, and the model's process from just before."""
    body = images.raw_png(20_000, 20_000, 1, 0, None)
    assert len(body) < 200_000
    photo, small = _with_decode_peak(server, images.jpeg())
    assert photo.status_code == 200
    resident = reset_peak(server)
    refused, peak = _with_decode_peak(server, body)
    assert_error(refused, 413, "image_too_large")
    assert peak - small < 100_000_000, "the decode worker allocated the pixels"
    assert peak_rss_kb(server) - resident < 100_000, "the model's process allocated the pixels"


def _with_decode_peak(server: ServerProcess, body: bytes) -> tuple[requests.Response, float]:
    """The answer to `body`, and the decode worker's peak for this one upload in bytes, as the server counted it."""
    count, total = decode_peaks(server)
    response = server.post(body)
    after_count, after_total = decode_peaks(server)
    assert after_count == count + 1
    return response, after_total - total


def test_image_too_large_even_when_its_data_is_missing(server: ServerProcess) -> None:
    assert_error(server.post(images.raw_png(20_000, 20_000, 8, 2, [])), 413, "image_too_large")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_wrong_method(server: ServerProcess, method: str) -> None:
    """Allow says what the path answers: the fuzz found GET listed, a GET that is itself a 405."""
    response = requests.request(method, server.url + "/remove-background", timeout=10)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "OPTIONS"])
def test_wrong_method_at_the_root_allows_the_page_too(server: ServerProcess, method: str) -> None:
    response = requests.request(method, server.url + "/", timeout=10)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize("path", ["/_/health", "/_/ready"])
def test_a_post_to_a_probe_is_a_wrong_method_not_a_missing_path(server: ServerProcess, path: str) -> None:
    """The fuzz found these answering 404, as if the probes were not there."""
    response = server.post(images.jpeg(), path=path)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, HEAD"


def test_unknown_internal_path(server: ServerProcess) -> None:
    assert_error(server.post(images.jpeg(), path="/_/nothing"), 404, "not_found")


def test_still_serving_after_bad_input(server: ServerProcess) -> None:
    for body in (b"", b"junk", images.jpeg()[:500], images.raw_png(20_000, 20_000, 1, 0, [])):
        assert 400 <= server.post(body).status_code < 500
    assert server.proc.poll() is None
    assert_cutout(server.post(images.jpeg()), (512, 512))
    assert "Traceback" not in server.log()


def test_a_lossy_webp_gets_the_webp_share_of_the_limit_too(start_server) -> None:
    """A 232 KB lossy 50 MP WebP once had the whole limit and decoded at 16.5 B a pixel, as a lossless one does."""
    server = start_server(REMBG_MODEL="u2netp", MAX_INPUT_PIXELS="1000000").wait_ready()
    picture = images.photo("chelsea").resize((1000, 700))
    response = server.post(images.webp_behind_chunks(images.extended_webp(picture, quality=80), 70))
    assert_error(response, 413, "image_too_large")
    assert "for a WebP" in response.json()["error"]["message"]
    assert_cutout(server.post(images.extended_webp(picture.resize((1000, 600)), quality=80)), (1000, 600))


@pytest.mark.parametrize("name", ["модель ✓.onnx", "a\r\nX-Injected: 1.onnx"], ids=["cyrillic", "line break"])
def test_any_model_file_name_is_carried_in_x_model(start_server, tmp_path, name: str) -> None:
    """The operator's file name reaches X-Model: outside Latin-1 it once made every success a 500 (and health
    200); percent-encoded, it is one header, and the metric carries the name itself."""
    home = tmp_path / "home"
    (home / "custom").mkdir(parents=True)
    model = home / "custom" / name
    model.symlink_to(MODEL_HOME / "models" / "u2netp" / "u2netp.onnx")
    server = start_server(REMBG_MODEL="u2net_custom", REMBG_MODEL_PATH=str(model), U2NET_HOME=str(home))
    response = server.wait_ready().post(images.jpeg())
    assert_cutout(response, (512, 512))
    assert response.headers["X-Model"] == handler.header_value(f"u2net_custom:{name}")
    assert "X-Injected" not in response.headers
    assert response.headers["X-Model"].isascii() and "%" in response.headers["X-Model"]
    assert f'model="u2net_custom:{name}"'.replace("\n", "\\n") in server.metrics()


@pytest.mark.parametrize("path", ["/", "/api/v2/remove-background", "/v1.0/removebg"])
def test_a_form_of_too_many_parts_is_a_documented_400(server: ServerProcess, path: str) -> None:
    """Werkzeug refuses a form past its part limit with its own 413, whose code the document did not have."""
    files = [(f"f{index}", (f"{index}.txt", b"x", "text/plain")) for index in range(150)]
    response = requests.post(server.url + path, files=files, timeout=30)
    assert response.status_code == 400, response.text
    assert "more than 100 parts" in response.text
    assert_documented(path, "post", 400, dict(response.headers), response.content)
