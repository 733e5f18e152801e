"""Every option, format and route answers as recorded (tests/support/same_bytes.py): a refactor changes no byte.

Where this machine's model gives the recorded masks, every answer must be byte for byte the
recorded one. Where it does not (another CPU class: ONNX Runtime's kernels differ in their last
bits), each answer keeps its status, its headers up to the foreground's box and a coarse
picture of its pixels; the test says which inputs' masks differed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import requests

from tests.support import same_bytes
from tests.support.server import ServerProcess

RECORDED = json.loads(same_bytes.RECORDING.read_text())["answers"]
# How far apart a coarse pixel may be when the mask underneath differs by a unit here and there.
THUMB_TOLERANCE = 6
BOX_HEADERS = ("X-Foreground-Top", "X-Foreground-Left", "X-Foreground-Width", "X-Foreground-Height")
BOX_TOLERANCE = 2


@pytest.fixture(scope="module")
def masks_agree(server: ServerProcess) -> dict[str, bool]:
    session = requests.Session()
    agree = {}
    for image in same_bytes.INPUTS:
        case = next(case for case in same_bytes.CASES if case.name == same_bytes.mask_case(image))
        agree[image] = same_bytes.answer(case, server.url, session)["sha256"] == RECORDED[case.name]["sha256"]
    return agree


def test_every_case_is_recorded_and_every_option_is_covered() -> None:
    from function.request.routes import OWN_FIELDS, PIXIAN_FIELDS, REMOVEBG_FIELDS

    assert sorted(RECORDED) == sorted(case.name for case in same_bytes.CASES)
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
def test_the_answer_is_the_recorded_one(case: same_bytes.Case, server: ServerProcess, masks_agree) -> None:
    recorded = RECORDED[case.name]
    got = same_bytes.answer(case, server.url, requests.Session())
    assert got["status"] == recorded["status"]
    if masks_agree[case.image] or recorded["status"] != 200:
        assert got == recorded
        return
    # another CPU class: the model's last bits differ, the output stage's work must not
    headers, expected = dict(got["headers"]), dict(recorded["headers"])
    for name in BOX_HEADERS:
        assert abs(int(headers.pop(name)) - int(expected.pop(name))) <= BOX_TOLERANCE, name
    assert headers == expected
    for mine, theirs in zip(got["thumb"], recorded["thumb"], strict=True):
        difference = np.abs(same_bytes.thumb_pixels(mine) - same_bytes.thumb_pixels(theirs)).max()
        assert difference <= THUMB_TOLERANCE, f"masks differ on this CPU; coarse pixels by {difference}"
