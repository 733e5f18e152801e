"""A client's mistakes answered, over real HTTP: a misspelt field, a misspelt route, a body curl stripped.

Our route refuses a field it does not read (400 unknown_option, naming the nearest it has);
Pixian's and remove.bg's routes ignore one, as the originals do, and name it in X-Ignored-Fields;
a path that is no route is a 404 listing the routes; a raw body that lost its line breaks (as
`curl -d @photo.jpg` sends it) is told to use --data-binary.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
import requests

from function.request import routes
from tests.support import images
from tests.support.checks import assert_cutout, assert_error
from tests.support.server import ServerProcess

PHOTO = images.jpeg(images.photo("chelsea"))
SIZE = (451, 300)


def _message(response: requests.Response) -> str:
    return response.json()["error"]["message"]


# --- our route: an unknown field is a 400 naming the nearest known one ----------------------------


@pytest.mark.parametrize("path", routes.OWN_PATHS)
@pytest.mark.parametrize(
    ("name", "nearest"),
    [("bg_colour", "bg_color"), ("background.colour", "bg_color"), ("Format", "format"), ("cropmargin", "margin")],
)
def test_a_misspelt_query_parameter_names_the_nearest_field(
    server: ServerProcess, path: str, name: str, nearest: str
) -> None:
    response = server.post(PHOTO, path=path, params={name: "x"}, headers={"Content-Type": "image/jpeg"})
    assert_error(response, 400, "unknown_option")
    assert _message(response) == f"{name!r} is not a field here: did you mean {nearest}?"


def test_a_misspelt_form_field_names_the_nearest_field(server: ServerProcess) -> None:
    files = {"image": ("chelsea.jpg", PHOTO, "image/jpeg")}
    data = {"crop_to_foreground": "true"}
    response = requests.post(server.url + "/remove-background", files=files, data=data, timeout=60)
    assert_error(response, 400, "unknown_option")
    assert _message(response).endswith("did you mean crop?")  # Pixian's result.crop_to_foreground is our crop


def test_a_field_near_none_lists_the_fields(server: ServerProcess) -> None:
    files = {"image": ("chelsea.jpg", PHOTO, "image/jpeg"), "thumbnail": ("small.jpg", PHOTO, "image/jpeg")}
    response = requests.post(server.url + "/remove-background", files=files, timeout=60)
    assert_error(response, 400, "unknown_option")
    fields = ", ".join(field.name for field in routes.OWN_FIELDS)
    assert _message(response) == (
        f"'thumbnail' is not a field here; the fields are {fields}, and the image is the body or the file part"
        " image or file or image_file"
    )


def test_a_field_name_is_quoted_safely_and_briefly(server: ServerProcess) -> None:
    name = "z\r\n" + "q" * 5000
    response = server.post(PHOTO, params={name: "1"})
    assert_error(response, 400, "unknown_option")
    message = _message(response)
    assert "\\r\\n" in message and "(5003 characters)" in message and len(message) < 400


def test_the_known_fields_still_pass(server: ServerProcess) -> None:
    """Every field our route reads, at once: none of them is taken for an unknown one."""
    params = {"format": "png", "crop": "false", "margin": "0", "only_mask": "false", "quality": "90"}
    files = {"image": ("chelsea.jpg", PHOTO, "image/jpeg")}
    data = {"size": "full", "max_pixels": "25000000", "vertical_alignment": "middle"}
    assert_cutout(requests.post(server.url + "/", params=params, files=files, data=data, timeout=60), SIZE)


# --- Pixian's and remove.bg's routes: ignored, and said so ----------------------------------------


def _log_line(server: ServerProcess, call_id: str) -> dict:
    """The request's own line in the shared server's log, found by its call id (written as it is answered)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
        if found := [line for line in lines if line.get("call_id") == call_id]:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no log line for {call_id}")


def test_pixian_s_route_ignores_an_unknown_field_and_says_so(server: ServerProcess) -> None:
    files = {"image": ("chelsea.jpg", PHOTO, "image/jpeg")}
    data = {"background.colour": "#ff0000", "result.crop_to_foreground": "true", "output.size": "big"}
    call_id = f"ignored-{uuid.uuid4().hex}"
    response = requests.post(
        server.url + routes.PIXIAN_PATH, files=files, data=data, headers={"X-Call-Id": call_id}, timeout=60
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-Ignored-Fields"] == "background.colour, output.size"
    assert response.headers["Content-Type"] == "image/png", "the misspelt colour was ignored: still transparent"
    assert int(response.headers["X-Width"]) < SIZE[0], "the known field was read: cropped"
    assert _log_line(server, call_id)["ignored"] == "background.colour, output.size"


def test_remove_bg_s_route_ignores_its_fields_this_function_lacks(server: ServerProcess) -> None:
    body = {"image_file_b64": base64.b64encode(PHOTO).decode(), "type": "animal", "add_shadow": True, "format": "png"}
    params = {"semitransparency": "true"}
    response = requests.post(server.url + routes.REMOVEBG_PATH, params=params, json=body, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["X-Ignored-Fields"] == "semitransparency, type, add_shadow"


def test_nothing_ignored_no_header(server: ServerProcess) -> None:
    for path, field in ((routes.PIXIAN_PATH, "image"), (routes.REMOVEBG_PATH, "image_file")):
        response = requests.post(server.url + path, files={field: ("c.jpg", PHOTO, "image/jpeg")}, timeout=60)
        assert response.status_code == 200, response.text
        assert "X-Ignored-Fields" not in response.headers


def test_the_ignored_names_are_header_safe_and_bounded(server: ServerProcess) -> None:
    names = ["a,b", "line\r\nX-Evil: 1", "", "модель", "%41", "w" * 300, *(f"extra{index}" for index in range(20))]
    body = json.dumps({"image_file_b64": base64.b64encode(PHOTO).decode(), **dict.fromkeys(names, "1")}).encode()
    response = requests.post(
        server.url + routes.REMOVEBG_PATH, data=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    assert response.status_code == 200, response.text
    assert "X-Evil" not in response.headers
    listed = response.headers["X-Ignored-Fields"].split(", ")
    assert listed == [
        "a%2Cb",
        "line%0D%0AX-Evil:%201",
        '""',  # an empty name, shown as one: never an empty item (or an empty header)
        "%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C",
        "%2541",
        "w" * 40,
        *(f"extra{index}" for index in range(routes.MAX_IGNORED_NAMES - 6)),
    ]


# --- a path that is no route ------------------------------------------------------------------------

ROUTE_LIST = "the routes are /, /remove-background, /api/v2/remove-background, /v1.0/removebg"


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("/v1/removebg", "did you mean /v1.0/removebg? "),
        ("/api/v2/remove_background", "did you mean /api/v2/remove-background? "),
        ("/api/remove", ""),
        ("/function/remove-bg", ""),  # a gateway strips its own prefix: the function never sees it
    ],
)
def test_an_unknown_path_is_a_404_listing_the_routes(server: ServerProcess, path: str, hint: str) -> None:
    response = server.post(PHOTO, path=path)
    assert_error(response, 404, "not_found")
    assert _message(response) == f"POST {path!r}: no such route here; {hint}{ROUTE_LIST}"


def test_an_unknown_path_is_a_404_whatever_the_method(server: ServerProcess) -> None:
    for method in ("GET", "PUT", "HEAD"):
        response = requests.request(method, server.url + "/v1/removebg", timeout=10)
        assert response.status_code == 404, method
    assert requests.get(server.url + "/_/health", timeout=10).status_code == 200
    assert_error(server.post(PHOTO, path="/_/nothing"), 404, "not_found")


def test_an_unknown_compatible_looking_path_answers_in_our_shape(server: ServerProcess) -> None:
    response = server.post(PHOTO, path="/v1.0/removebg/")
    assert_error(response, 404, "not_found")
    assert "did you mean /v1.0/removebg?" in _message(response)


@pytest.mark.parametrize("nameless", ["form-data", 'form-data; filename="b.png"'])  # a field, a file
@pytest.mark.parametrize("path", [*routes.OWN_PATHS, routes.PIXIAN_PATH, routes.REMOVEBG_PATH])
def test_a_form_part_without_a_name_is_a_bad_form(server: ServerProcess, path: str, nameless: str) -> None:
    """RFC 7578 gives every part a name; one without (Werkzeug's name None) was looked up as a field, a 500."""
    image = images.encode(images.photo("coffee"), "PNG")
    parts = [
        ('form-data; name="image"; filename="a.png"', image),
        ('form-data; name="image_file"; filename="a.png"', image),
        (nameless, b"1"),
    ]
    body = b"".join(b"--b\r\nContent-Disposition: %s\r\n\r\n%s\r\n" % (head.encode(), data) for head, data in parts)
    response = server.post(body + b"--b--\r\n", path=path, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 400, response.text
    assert "has no name" in response.text


# --- a raw body stripped of its line breaks -------------------------------------------------------


def _stripped(data: bytes) -> bytes:
    assert b"\r" in data or b"\n" in data
    return data.replace(b"\r", b"").replace(b"\n", b"")


STRIPPED = {
    "jpeg": _stripped(PHOTO),
    "png": _stripped(images.encode(images.photo("coffee"), "PNG")),
    "webp": _stripped(images.encode(images.photo("astronaut"), "WEBP", quality=80)),
}


CURL_D = "application/x-www-form-urlencoded"  # what curl -d labels a body with, unless told otherwise


@pytest.mark.parametrize("kind", STRIPPED)
@pytest.mark.parametrize("content_type", ["image/jpeg", "application/octet-stream", CURL_D])
def test_a_body_curl_d_stripped_is_told_to_use_data_binary(server: ServerProcess, kind: str, content_type: str) -> None:
    """`curl -d @photo.jpg` drops every CR and LF byte of the file."""
    response = server.post(STRIPPED[kind], headers={"Content-Type": content_type})
    assert_error(response, 400, "corrupt_image")
    assert "curl --data-binary @file" in _message(response) and "-F image=@file" in _message(response)


def test_remove_bg_s_route_says_so_in_its_shape(server: ServerProcess) -> None:
    response = server.post(STRIPPED["jpeg"], path=routes.REMOVEBG_PATH, headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["code"] == "failed_to_read_image" and "-F image_file=@file" in error["title"]


def test_a_body_merely_cut_short_gets_no_such_hint(server: ServerProcess) -> None:
    response = server.post(PHOTO[: len(PHOTO) // 2], headers={"Content-Type": "image/jpeg"})
    assert_error(response, 400, "corrupt_image")
    assert "--data-binary" not in _message(response)


# Text has no line breaks of its own to lose: base64 (remove.bg's image_file_b64, on our route) or JSON.
TEXT = {
    "base64": base64.b64encode(PHOTO),
    "json": json.dumps({"image_file_b64": base64.b64encode(PHOTO).decode()}).encode(),
}


@pytest.mark.parametrize("kind", TEXT)
def test_text_that_is_no_image_gets_no_such_hint(server: ServerProcess, kind: str) -> None:
    """A body of text is not a picture that lost its line breaks: --data-binary would send the same bytes."""
    assert len(TEXT[kind]) >= 2048 and b"\n" not in TEXT[kind]
    response = server.post(TEXT[kind], headers={"Content-Type": "application/json"})
    assert_error(response, 415, "unsupported_image")
    assert "--data-binary" not in _message(response)


def test_the_same_bytes_whole_are_cut_out(server: ServerProcess) -> None:
    """The photo these tests strip is one the function reads when it arrives whole."""
    assert_cutout(server.post(PHOTO, headers={"Content-Type": CURL_D}), SIZE)
