"""Large photos: parity with rembg at every size, scaling down past MAX_PIXELS, bounded memory."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.support import images
from tests.support.checks import (
    PARITY_LIMIT,
    alpha_of,
    assert_cutout,
    mean_alpha_difference,
    peak_rss_kb,
    rembg_remove,
    reset_peak,
)
from tests.support.server import ServerProcess

SIZES = [(1280, 960), (4032, 3024)]


def _photo_jpeg(name: str, size: tuple[int, int]) -> bytes:
    return images.jpeg(images.photo(name).resize(size, Image.Resampling.BICUBIC))


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("name", images.PHOTOS)
def test_parity_at_camera_sizes_u2netp(server: ServerProcess, rembg_sessions, name: str, size: tuple[int, int]) -> None:
    body = _photo_jpeg(name, size)
    response = server.post(body)
    assert_cutout(response, size)
    assert mean_alpha_difference(response.content, rembg_remove(rembg_sessions, "u2netp", body)) <= PARITY_LIMIT


def test_parity_at_12_mp_u2net(parity_server: ServerProcess, rembg_sessions) -> None:
    body = _photo_jpeg("chelsea", (4032, 3024))
    response = parity_server.post(body)
    assert_cutout(response, (4032, 3024))
    assert mean_alpha_difference(response.content, rembg_remove(rembg_sessions, "u2net", body)) <= PARITY_LIMIT


def _scaled_parity(response_png: bytes, full_size_png: bytes) -> float:
    ours = alpha_of(response_png)
    theirs = Image.open(io.BytesIO(full_size_png)).getchannel("A")
    theirs = theirs.resize((ours.shape[1], ours.shape[0]), Image.Resampling.LANCZOS)
    return float(np.abs(ours - np.asarray(theirs, dtype=np.float64)).mean())


def test_over_max_pixels_is_scaled_to_fit_and_says_so(server: ServerProcess, rembg_sessions) -> None:
    body = _photo_jpeg("coffee", (6000, 4500))  # 27 MP, over the 25 MP default
    response = server.post(body)
    width, height = int(response.headers["X-Width"]), int(response.headers["X-Height"])
    assert width * height <= 25_000_000
    assert width * height > 24_000_000, "scaled to fit, not further"
    assert abs(width / height - 6000 / 4500) < 0.01
    assert (response.headers["X-Input-Width"], response.headers["X-Input-Height"]) == ("6000", "4500")
    assert_cutout(response, (width, height))
    assert _scaled_parity(response.content, rembg_remove(rembg_sessions, "u2netp", body)) <= PARITY_LIMIT


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_scaling_applies_to_every_format_and_orientation(start_server, rembg_sessions, fmt: str) -> None:
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", MAX_PIXELS="200000").wait_ready()
    stored = images.photo("chelsea").resize((1353, 900))  # 1.2 MP stored sideways
    exif = Image.Exif()
    exif[0x0112] = 6
    body = images.encode(stored, fmt, exif=exif)
    response = server.post(body)
    width, height = int(response.headers["X-Width"]), int(response.headers["X-Height"])
    assert height > width, "orientation applied"
    assert 190_000 < width * height <= 200_000
    assert (response.headers["X-Input-Width"], response.headers["X-Input-Height"]) == ("900", "1353")
    assert_cutout(response, (width, height))
    assert _scaled_parity(response.content, rembg_remove(rembg_sessions, "u2netp", body)) <= PARITY_LIMIT


def test_small_images_are_not_scaled(server: ServerProcess) -> None:
    response = server.post(images.jpeg())
    assert (response.headers["X-Input-Width"], response.headers["X-Input-Height"]) == ("512", "512")
    assert (response.headers["X-Width"], response.headers["X-Height"]) == ("512", "512")


def test_memory_stays_bounded_for_the_largest_image(start_server) -> None:
    """One 25 MP PNG (the slowest format to decode): the whole u2netp server stays under 1 GB."""
    server: ServerProcess = start_server(REMBG_MODEL="u2netp").wait_ready()
    body = images.encode(images.photo("astronaut").resize((5773, 4330), Image.Resampling.BICUBIC), "PNG")
    assert server.post(body).status_code == 200
    assert server.post(_photo_jpeg("astronaut", (8000, 6000))).status_code == 200  # 48 MP, scaled
    peak = peak_rss_kb(server)
    print(f"peak RSS {peak // 1024} MiB")
    assert peak < 1_000_000


def test_memory_stays_bounded_with_the_default_model(default_server: ServerProcess) -> None:
    """u2net-int8, the default and the fast tier: a 25 MP PNG leaves the server process under 0.8 GB. The server
    is shared by the run: its peak is read from just before this request, so that it is this request's."""
    body = images.encode(images.photo("coffee").resize((5773, 4330), Image.Resampling.BICUBIC), "PNG")
    reset_peak(default_server)
    assert default_server.post(body).status_code == 200
    peak = peak_rss_kb(default_server)
    print(f"peak RSS {peak // 1024} MiB")
    assert peak < 800 * 1000
