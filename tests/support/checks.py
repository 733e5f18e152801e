"""Assertions on cut-outs and error answers, and the parity measure against rembg itself."""

from __future__ import annotations

import io
import re

import numpy as np
import requests
from PIL import Image

from harness import processes
from tests.support import images
from tests.support.server import ServerProcess

PARITY_LIMIT = 2.0  # mean |Δalpha| in 1/255 units


def rembg_remove(rembg_sessions, model: str, body: bytes) -> bytes:
    from rembg import remove

    return remove(body, session=rembg_sessions(model))


def alpha_of(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGBA", image.mode
    return np.asarray(image.getchannel("A"), dtype=np.float64)


def mean_alpha_difference(ours: bytes, theirs: bytes) -> float:
    """Mean |Δalpha| in units of 1/255."""
    a, b = alpha_of(ours), alpha_of(theirs)
    assert a.shape == b.shape
    return float(np.abs(a - b).mean())


def peak_rss_kb(server: ServerProcess) -> int:
    """The server process's peak resident memory (VmHWM) since it started or since reset_peak(), in KiB."""
    return processes.peak_rss_kb(server.proc.pid)


def reset_peak(server: ServerProcess) -> int:
    """Start the server process's peak again from what it holds now, and return that, in KiB: a long-lived
    server's peak read after this is that of the requests since, not the highest of the whole run."""
    processes.reset_peak(server.proc.pid)
    return processes.rss_kb(server.proc.pid)


def decode_peaks(server: ServerProcess) -> tuple[int, float]:
    """How many decode workers' peaks the server has counted, and their sum in bytes: each is a worker's peak
    from the start of its one upload (remove_bg_decode_peak_bytes), so the difference across a request is
    that request's."""
    found = dict(re.findall(r"^remove_bg_decode_peak_bytes_(count|sum) (\S+)$", server.metrics(), re.MULTILINE))
    return round(float(found["count"])), float(found["sum"])


def assert_cutout(response: requests.Response, size: tuple[int, int]) -> Image.Image:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == "image/png"
    image = images.decode_png(response.content)
    assert image.mode == "RGBA"
    assert image.size == size
    assert (response.headers["X-Width"], response.headers["X-Height"]) == (str(size[0]), str(size[1]))
    pixels = np.asarray(image)
    transparent = pixels[..., 3] == 0
    assert transparent.any(), "no background was removed"
    assert (pixels[..., 3] > 0).any(), "everything was removed"
    assert not pixels[transparent][:, :3].any(), "RGB must be zero where alpha is 0"
    return image


def assert_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["status"] == status
    assert error["code"] == code
    assert error["message"]
    assert "Traceback" not in response.text
