"""The try-it page at GET /: self-contained, and used end to end in headless Chromium (playwright-core)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from harness import models
from harness.processes import ROOT
from tests.support import images
from tests.support.checks import assert_error
from tests.support.server import ServerProcess

TRYIT = ROOT / "tests" / "js" / "tryit.mjs"
# make test leaves the page's screenshot here; the README's picture (docs/try-it.png) is made by make pictures.
SCREENSHOT = ROOT / "build" / "try-it.png"


def _drive(
    server: ServerProcess, photo: Path, screenshot: Path, prefix: str = "", token: str = "", *, late_token: str = ""
) -> dict:
    node = shutil.which("node")
    assert node, "Node.js drives the browser (make test installs playwright-core; scripts/chromium.sh, Chromium)"
    command = [node, str(TRYIT), server.url, str(photo), str(screenshot), prefix, token, late_token]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_page_is_one_self_contained_file(server: ServerProcess) -> None:
    response = requests.get(server.url + "/", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = response.text
    assert "<script" in page and 'src="http' not in page and 'href="http' not in page and "@import" not in page
    assert "remove-background" in page


def test_a_photo_dropped_on_the_page_comes_back_cut_out(server: ServerProcess, tmp_path: Path) -> None:
    photo = tmp_path / "astronaut.jpg"
    photo.write_bytes(images.jpeg(images.photo("astronaut")))
    SCREENSHOT.parent.mkdir(exist_ok=True)
    seen = _drive(server, photo, SCREENSHOT)
    first, second = seen["first"], seen["second"]
    assert seen["outside"] == [], "the page loaded something from elsewhere"
    assert first["state"] == "done", first["status"]
    assert (first["width"], first["height"]) == (512, 512)
    assert first["transparent"] > 10_000 and first["opaque"] > 10_000, "a cut-out: background gone, subject kept"
    assert first["beforeShown"]
    assert first["download"] == {"href": "blob:", "name": "astronaut-cutout.png"}
    status = first["status"]
    assert " ms · 512×512 in " in status and "image/png" in status and "model u2netp" in status
    assert second["state"] == "done", second["status"]
    assert "image/webp" in second["status"] and second["download"]["name"] == "astronaut-cutout.webp"
    assert second["height"] < 512, "cropped to the subject"
    assert SCREENSHOT.stat().st_size > 10_000


def test_the_page_says_the_quality_tier_answered(quality_server: ServerProcess, tmp_path: Path) -> None:
    photo = tmp_path / "chelsea.jpg"
    photo.write_bytes(images.jpeg(images.photo("chelsea")))
    seen = _drive(quality_server, photo, tmp_path / "quality.png")
    first = seen["first"]
    assert first["state"] == "done", first["status"]
    assert f"model isnet-general-use-int8+{models.QUALITY_CORE}" in first["status"]
    assert first["transparent"] > 0 and first["opaque"] > 0


def test_the_page_works_under_the_gateway_s_path(server: ServerProcess, tmp_path: Path) -> None:
    photo = tmp_path / "coffee.png"
    photo.write_bytes(images.encode(images.photo("coffee"), "PNG"))
    seen = _drive(server, photo, tmp_path / "gateway.png", prefix="/function/remove-bg")
    assert seen["first"]["state"] == "done", seen["first"]["status"]
    assert seen["first"]["transparent"] > 0 and seen["first"]["opaque"] > 0


@pytest.mark.parametrize("path", ["/remove-background", "/api/v2/remove-background"])
def test_other_gets_are_405(server: ServerProcess, path: str) -> None:
    response = requests.get(server.url + path, timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_try_page_off(start_server) -> None:
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", TRY_PAGE="off").wait_ready()
    response = requests.get(server.url + "/", timeout=10)
    assert_error(response, 405, "method_not_allowed")
    assert "TRY_PAGE" in response.json()["error"]["message"]


def test_the_page_waits_out_a_busy_function_and_sends_the_token(start_server, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("page-token")
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", MAX_INFLIGHT="1", TOKEN_FILE=str(token)).wait_ready()
    photo = tmp_path / "chelsea.jpg"
    photo.write_bytes(images.jpeg(images.photo("chelsea")))
    seen = _drive(server, photo, tmp_path / "refused.png", late_token="page-token")
    refused, then = seen["first"], seen["second"]
    assert refused["state"] == "error"
    assert refused["status"] == "This function needs its access token: paste it in the Token box above."
    assert then["state"] == "done", then["status"]  # the photo went again with the token typed in
    wrong = _drive(server, photo, tmp_path / "wrong.png", token="not-the-token")["first"]
    assert wrong["state"] == "error" and "Token box above was not accepted" in wrong["status"]
    slow = images.jpeg(images.photo("astronaut").resize((5000, 5000)))
    headers = {"Authorization": "Bearer page-token"}
    stop = threading.Event()

    def keep_busy() -> None:  # the one slot taken almost all the time for 6 s
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and not stop.is_set():
            server.post(slow, headers=headers)

    with ThreadPoolExecutor(1) as pool:
        busy = pool.submit(keep_busy)
        server.wait_in_flight()
        try:
            seen = _drive(server, photo, tmp_path / "busy.png", token="page-token")
        finally:
            stop.set()
        busy.result()
    assert seen["first"]["state"] == "done", seen["first"]["status"]
    assert seen["first"]["transparent"] > 0 and seen["first"]["opaque"] > 0
    assert 'remove_bg_requests_total{route="/remove-background",status="429"}' in server.metrics()
