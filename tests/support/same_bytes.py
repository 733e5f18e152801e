"""A fixed set of requests over every option, format and route, and what the function answered them.

    PYTHONPATH=build/pythonpath python -m tests.support.same_bytes   # record again: only for a meant change

tests/test_same_bytes.py sends the same requests and requires the answers recorded in
tests/data/same-bytes.json: a refactor must not change a byte. The model's numbers are the one
thing here that may differ from one CPU class to another (ONNX Runtime picks its kernels by the
CPU's features), so each input's raw mask is recorded too: the model's own output for the input,
through a rembg session made here (raw_mask), never through the server, whose output stage is what
is under test. Where this machine's raw mask is the recorded one, every answer must be the same
bytes; where it is not, the answers are held to their headers and a coarse picture of their pixels
(`thumb`), which a wrong layout, colour or alpha changes and a mask one unit off does not.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import requests
from PIL import Image

from tests.support import images

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession

RECORDING = Path(__file__).resolve().parent.parent / "data" / "same-bytes.json"
MODEL = "u2netp"
PIXIAN = "/api/v2/remove-background"
REMOVEBG = "/v1.0/removebg"
# The headers that are the function's answer (X-Call-Id and Date differ on every request by design).
KEPT_HEADERS = (
    "Content-Type",
    "X-Width",
    "X-Height",
    "X-Input-Width",
    "X-Input-Height",
    "X-Foreground-Top",
    "X-Foreground-Left",
    "X-Foreground-Width",
    "X-Foreground-Height",
    "X-Model",
    "X-Credits-Charged",
)
THUMB_SIDE = 8


def _inputs() -> dict[str, bytes]:
    """A photo as JPEG, a photo with its own alpha as PNG, and a plain blue picture (nothing found in it)."""
    cat = images.photo("chelsea").resize((300, 200), Image.Resampling.BICUBIC)
    cup = images.photo("coffee").resize((240, 160), Image.Resampling.BICUBIC).convert("RGBA")
    ramp = np.tile(np.linspace(0, 255, cup.width, dtype=np.uint8), (cup.height, 1))
    cup.putalpha(Image.fromarray(ramp))
    return {
        "cat.jpg": images.jpeg(cat),
        "cup-alpha.png": images.encode(cup, "PNG"),
        "blue.png": images.encode(Image.new("RGB", (64, 48), (30, 90, 200)), "PNG"),
    }


INPUTS = _inputs()


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    image: str  # a key of INPUTS
    how: str  # "raw": the body is the image; "form": multipart; "urlencoded", "json": base64 text
    fields: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)

    def send(self, url: str, session: requests.Session) -> requests.Response:
        image = INPUTS[self.image]
        target = url + self.path
        if self.how == "raw":
            return session.post(target, data=image, params=self.query, timeout=120)
        if self.how == "form":
            part = {PIXIAN: "image", REMOVEBG: "image_file"}.get(self.path, "image")
            files = {part: (self.image, image, "application/octet-stream")}
            return session.post(target, files=files, data=self.fields, params=self.query, timeout=120)
        text = base64.b64encode(image).decode("ascii")
        key = {PIXIAN: "image.base64", REMOVEBG: "image_file_b64"}[self.path]
        if self.how == "json":
            return session.post(target, json={key: text, **self.fields}, timeout=120)
        return session.post(target, data={key: text, **self.fields}, timeout=120)


def mask_case(image: str) -> str:
    return f"mask of {image}"


def _own(name: str, image: str = "cat.jpg", **query: str) -> Case:
    return Case(name, "/", image, "raw", query=query)


def _cases() -> list[Case]:
    cases = [_own(mask_case(image), image, only_mask="true") for image in INPUTS]
    for image in INPUTS:
        cases.append(_own(f"plain {image}", image))
        cases.append(_own(f"webp {image}", image, format="webp"))
        cases.append(_own(f"crop {image}", image, crop="true"))
    cases += [
        _own("png", format="png"),
        _own("auto", format="auto"),
        _own("auto over opaque colour", format="auto", bg_color="#336699"),
        _own("png over translucent colour", format="png", bg_color="33669980"),
        _own("webp lossy", format="webp", quality="80"),
        _own("jpeg", format="jpeg"),
        _own("jpg quality 50", format="jpg", quality="50"),
        _own("delta png", format="delta_png"),
        _own("delta png with alpha", "cup-alpha.png", format="delta_png"),
        _own("zip", format="zip"),
        _own("zip quality 60", format="zip", quality="60"),
        _own("crop with margin", crop="true", margin="10%"),
        _own("margin in pixels", margin="5px 10px"),
        _own("margin four sides", margin="1% 2% 3% 4%"),
        _own("target size middle", target_size="200x200"),
        _own("target size top", target_size="200x150", vertical_alignment="top"),
        _own("target size bottom with crop", target_size="120x160", vertical_alignment="bottom", crop="true"),
        _own("target size over white jpeg", target_size="160x160", format="jpeg", bg_color="white"),
        _own("mask jpeg", only_mask="true", format="jpeg"),
        _own("mask webp", only_mask="true", format="webp"),
        _own("mask with crop", only_mask="true", crop="true", margin="4px"),
        _own("max pixels", max_pixels="20000"),
        _own("size preview", size="preview"),
        _own("crop of nothing", "blue.png", crop="true", margin="10%"),
        _own("alpha png over colour", "cup-alpha.png", bg_color="ff000080"),
        _own("alpha png jpeg", "cup-alpha.png", format="jpeg"),
        Case("form part image", "/", "cat.jpg", "form", {"format": "webp", "crop": "true"}),
        Case("pixian plain", PIXIAN, "cat.jpg", "form"),
        Case("pixian crop", PIXIAN, "cat.jpg", "form", {"output.format": "png", "result.crop_to_foreground": "true"}),
        Case("pixian jpeg", PIXIAN, "cat.jpg", "form", {"output.format": "jpeg", "output.jpeg_quality": "90"}),
        Case("pixian delta", PIXIAN, "cup-alpha.png", "form", {"output.format": "delta_png"}),
        Case(
            "pixian layout",
            PIXIAN,
            "cat.jpg",
            "form",
            {"result.margin": "5%", "result.target_size": "180 180", "result.vertical_alignment": "bottom"},
        ),
        Case("pixian colour", PIXIAN, "cat.jpg", "form", {"background.color": "#00ff00", "max_pixels": "30000"}),
        Case("pixian base64", PIXIAN, "cup-alpha.png", "urlencoded", {"test": "true"}),
        Case("removebg plain", REMOVEBG, "cat.jpg", "form"),
        Case("removebg png crop", REMOVEBG, "cat.jpg", "form", {"format": "png", "crop": "true", "crop_margin": "8px"}),
        Case("removebg jpg", REMOVEBG, "cat.jpg", "form", {"format": "jpg"}),
        Case("removebg webp", REMOVEBG, "cup-alpha.png", "form", {"format": "webp"}),
        Case("removebg zip", REMOVEBG, "cat.jpg", "form", {"format": "zip"}),
        Case("removebg alpha channel", REMOVEBG, "cat.jpg", "form", {"channels": "alpha", "size": "preview"}),
        Case("removebg colour", REMOVEBG, "cat.jpg", "json", {"bg_color": "81d4fa"}),
        Case("removebg base64 form", REMOVEBG, "cup-alpha.png", "urlencoded", {"crop": "true"}),
        Case("own bad option", "/", "cat.jpg", "raw", query={"format": "tiff"}),
        Case("own conflicting options", "/", "cat.jpg", "raw", query={"format": "delta_png", "crop": "true"}),
        Case("pixian bad option", PIXIAN, "cat.jpg", "form", {"output.format": "webp"}),
        Case("removebg bad colour", REMOVEBG, "cat.jpg", "form", {"bg_color": "nope"}),
        Case("removebg url", REMOVEBG, "cat.jpg", "json", {"image_url": "http://example.com/x.jpg"}),
    ]
    return cases


CASES = _cases()


def _pixels(body: bytes) -> list[Image.Image]:
    """The pictures an answer holds: one, or a zip's colour and alpha."""
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return [Image.open(io.BytesIO(archive.read(name))) for name in sorted(archive.namelist())]
    return [Image.open(io.BytesIO(body))]


def thumb(body: bytes) -> list[str]:
    """Each picture as THUMB_SIDE × THUMB_SIDE averaged RGBA pixels (box filter), in hex."""
    out = []
    for picture in _pixels(body):
        small = picture.convert("RGBA").resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BOX)
        out.append(np.asarray(small).tobytes().hex())
    return out


def thumb_pixels(text: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(text), dtype=np.uint8).astype(int)


def _digest(body: bytes) -> str:
    """The sha256 of the body; of a zip's members, by name (the archive carries the time it was written)."""
    digest = hashlib.sha256()
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for name in sorted(archive.namelist()):
                digest.update(name.encode() + b"\0" + archive.read(name))
    else:
        digest.update(body)
    return digest.hexdigest()


def raw_mask(image: str, session: BaseSession) -> str:
    """The sha256 of the model's mask of INPUTS[image], at the model's input size, through `session`.

    The picture is squashed to the model's input with LANCZOS, as rembg's predict() squashes it, so
    the mask is the model's output with nothing of the server's in it.
    """
    picture = Image.open(io.BytesIO(INPUTS[image])).convert("RGB")
    height, width = session.inner_session.get_inputs()[0].shape[2:]
    (mask,) = session.predict(picture.resize((width, height), Image.Resampling.LANCZOS))
    return hashlib.sha256(mask.tobytes()).hexdigest()


def raw_masks(session: BaseSession) -> dict[str, str]:
    return {image: raw_mask(image, session) for image in INPUTS}


def answer(case: Case, url: str, session: requests.Session) -> dict:
    response = case.send(url, session)
    recorded = {
        "status": response.status_code,
        "headers": {name: response.headers.get(name) for name in KEPT_HEADERS if name in response.headers},
        "sha256": _digest(response.content),
    }
    if response.status_code == 200:
        recorded["thumb"] = thumb(response.content)
        recorded["sizes"] = [list(picture.size) for picture in _pixels(response.content)]
    else:
        recorded["body"] = response.content.decode("utf-8")
    return recorded


def record(url: str, model: BaseSession) -> dict:
    session = requests.Session()
    answers = {case.name: answer(case, url, session) for case in CASES}
    return {"model": MODEL, "raw_masks": raw_masks(model), "answers": answers}


def main() -> int:
    from rembg import new_session

    from tests.support.server import ServerProcess

    log = Path("build") / "same-bytes-server.log"
    log.parent.mkdir(exist_ok=True)
    server = ServerProcess(log, {"REMBG_MODEL": MODEL}).wait_ready()
    try:
        recording = record(server.url, new_session(MODEL))
    finally:
        server.stop()
    RECORDING.write_text(json.dumps(recording, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(recording['answers'])} answers in {RECORDING}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
