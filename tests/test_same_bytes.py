"""Every option, format and route answers as recorded (tests/support/same_bytes.py): a refactor changes no byte.

Which answers must be byte for byte the recorded ones is decided by the model alone: each input's
raw mask, computed here through a rembg session of the test's own (never through the server's
output, which is what is tested), against the raw mask recorded with the answers. Where this
machine's model gives an input's recorded raw mask, every answer for that input must be the
recorded bytes. Where it does not (another CPU class: ONNX Runtime's kernels differ in their last
bits), each of that input's answers keeps its status, its headers up to the foreground's box and a
coarse picture of its pixels, and the test is reported skipped with that input and tolerance named:
never a silent pass.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import requests

from tests.support import same_bytes
from tests.support.server import ServerProcess

RECORDING = json.loads(same_bytes.RECORDING.read_text())
RECORDED, RAW_MASKS = RECORDING["answers"], RECORDING["raw_masks"]
# How far apart a coarse pixel may be when the mask underneath differs by a unit here and there.
THUMB_TOLERANCE = 6
BOX_HEADERS = ("X-Foreground-Top", "X-Foreground-Left", "X-Foreground-Width", "X-Foreground-Height")
BOX_TOLERANCE = 2


@pytest.fixture(scope="module")
def exact(rembg_sessions) -> dict[str, bool]:
    """Per input: whether this machine's model gives the recorded raw mask (then its answers must be exact)."""
    session = rembg_sessions(RECORDING["model"])
    return {image: same_bytes.raw_mask(image, session) == RAW_MASKS[image] for image in same_bytes.INPUTS}


def test_every_case_is_recorded_and_every_option_is_covered() -> None:
    from function.request.routes import OWN_FIELDS, PIXIAN_FIELDS, REMOVEBG_FIELDS

    assert sorted(RECORDED) == sorted(case.name for case in same_bytes.CASES)
    assert sorted(RAW_MASKS) == sorted(same_bytes.INPUTS)
    sent = {(case.path, name) for case in same_bytes.CASES for name in (*case.fields, *case.query)}
    for path, fields in (("/", OWN_FIELDS), (same_bytes.PIXIAN, PIXIAN_FIELDS), (same_bytes.REMOVEBG, REMOVEBG_FIELDS)):
        missing = {field.name for field in fields} - {name for where, name in sent if where == path}
        assert not missing, f"{path}: no recorded request sends {sorted(missing)}"
    kinds = {answer["headers"].get("Content-Type") for answer in RECORDED.values()}
    assert kinds == {"image/png", "image/jpeg", "image/webp", "application/zip", "application/json"}


def test_every_recorded_picture_is_the_size_its_headers_say() -> None:
    for name, answer in RECORDED.items():
        if answer["status"] == 200:
            size = [int(answer["headers"]["X-Width"]), int(answer["headers"]["X-Height"])]
            assert all(pixels == size for pixels in answer["sizes"]), name


@pytest.mark.parametrize("case", same_bytes.CASES, ids=lambda case: case.name)
def test_the_answer_is_the_recorded_one(case: same_bytes.Case, server: ServerProcess, exact: dict[str, bool]) -> None:
    recorded = RECORDED[case.name]
    got = same_bytes.answer(case, server.url, requests.Session())
    assert got["status"] == recorded["status"]
    if exact[case.image] or recorded["status"] != 200:
        assert got == recorded
        return
    # another CPU class: the model's last bits differ, the output stage's work must not
    headers, expected = dict(got["headers"]), dict(recorded["headers"])
    for name in BOX_HEADERS:
        assert abs(int(headers.pop(name)) - int(expected.pop(name))) <= BOX_TOLERANCE, name
    assert headers == expected
    differences = [
        int(np.abs(same_bytes.thumb_pixels(mine) - same_bytes.thumb_pixels(theirs)).max())
        for mine, theirs in zip(got["thumb"], recorded["thumb"], strict=True)
    ]
    assert max(differences) <= THUMB_TOLERANCE, f"coarse pixels differ by {differences}"
    pytest.skip(
        f"not held byte for byte: {case.image}'s raw mask differs from the recorded one on this CPU; held to the"
        f" tolerance instead (box ±{BOX_TOLERANCE} px, coarse pixels ±{THUMB_TOLERANCE}: {max(differences)})"
    )
