"""The quality tier over real HTTP: isnet-general-use-int8 with u2netp's core, as production serves it, with the
int8 model of the ISNet file fetched here standing in for the record's own file; rembg's own isnet-general-use
session by name, and ISNet alone as rembg itself cuts it out."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from function.model.load import open_session
from function.model.locate import ModelChoice
from function.picture.mask import with_core
from harness import isnet, models
from harness.sets import SHARED
from tests.support import images
from tests.support.checks import PARITY_LIMIT, alpha_of, assert_cutout, mean_alpha_difference
from tests.support.server import ServerProcess

ISNET_INPUT = (1024, 1024)
FUSED_TOLERANCE = 0.1  # mean grey levels: what two ONNX Runtime sessions of the same model differ by
PRODUCTION = "isnet-general-use-int8"  # the quality tier's model in the stack files (tests/test_make.py)
LABEL = f"{PRODUCTION}+{models.QUALITY_CORE}"  # X-Model as production's says it


def test_a_real_photo_cut_out_by_the_quality_tier(quality_server: ServerProcess) -> None:
    """The stand-in file takes the production record's path: X-Model and the arena are the record's, with no
    ORT_MEMORY_ARENA given, and the start names the file that stands in."""
    assert "ORT_MEMORY_ARENA" not in models.settings(models.QUALITY)
    response = quality_server.post(images.jpeg(images.photo("astronaut")))
    assert_cutout(response, (512, 512))
    assert response.headers["X-Model"] == LABEL
    log = quality_server.log()
    assert "memory arena on" in log, "ISNet int8 and its core share one arena, as its record says (model/load.py)"
    assert f"model {PRODUCTION}: its own file's stand-in is {isnet.int8_path()} (md5 " in log
    alpha = alpha_of(response.content)
    assert alpha.min() == 0 and alpha.max() == 255


def test_the_core_model_only_adds_to_isnet_s_own_mask(quality_server: ServerProcess, start_server) -> None:
    alone = start_server(**isnet.int8_env()).wait_ready()
    body = images.jpeg(images.photo("coffee"))
    fused, plain = quality_server.post(body, params={"only_mask": "1"}), alone.post(body, params={"only_mask": "1"})
    assert plain.headers["X-Model"] == PRODUCTION
    fused_mask, plain_mask = (np.asarray(Image.open(io.BytesIO(r.content))) for r in (fused, plain))
    assert (fused_mask.astype(int) >= plain_mask.astype(int) - 1).all(), "the core never takes away"
    assert (fused_mask.astype(int) > plain_mask.astype(int) + 1).any(), "and on this photo it adds"


def test_the_core_never_fills_a_background_isnet_ruled_out(quality_server: ServerProcess) -> None:
    """GrabCut's doll: ISNet leaves a faint haze (8/255 or less) over the background, which u2netp takes for the
    subject, sure of it. Raised wherever ISNet said anything above 0, the served mask was 0.22 off the truth on
    average (ISNet alone: 0.01); the haze counts as ISNet's "no" (mask.py, RULED_OUT_UP_TO)."""
    photo, truth = SHARED / "grabcut50" / "image" / "doll.png", SHARED / "grabcut50" / "alpha" / "doll.png"
    response = quality_server.post(photo.read_bytes(), params={"only_mask": "1"})
    assert response.status_code == 200, response.text[:300]
    served = np.asarray(Image.open(io.BytesIO(response.content)), dtype=float) / 255
    expected = np.asarray(Image.open(truth).convert("L"), dtype=float) / 255
    assert np.abs(served - expected).mean() < 0.05


def test_isnet_alone_matches_rembg_s_own_cutout(start_server) -> None:
    from rembg import new_session, remove

    server = start_server(**isnet.env()).wait_ready()
    session = new_session("dis_custom", model_path=str(isnet.path()))
    for name in images.PHOTOS:
        body = images.jpeg(images.photo(name))
        response = server.post(body)
        assert_cutout(response, images.photo(name).size)
        assert mean_alpha_difference(response.content, remove(body, session=session)) <= PARITY_LIMIT


def test_isnet_general_use_by_name_through_rembg_s_own_session(start_server, tmp_path: Path) -> None:
    """Where rembg's lookup finds isnet-general-use.onnx, REMBG_MODEL=isnet-general-use serves it (here: the
    IMG.LY conversion in a home of its own, since rembg's file cannot be downloaded here), as the same file
    standing in for it (REMBG_MODEL_PATH) is served: the same mask, label and arena."""
    home = tmp_path / "home"
    place = home / "models" / "isnet-general-use" / "isnet-general-use.onnx"
    place.parent.mkdir(parents=True)
    place.symlink_to(isnet.path())
    by_name = start_server(REMBG_MODEL="isnet-general-use", U2NET_HOME=str(home)).wait_ready()
    custom = start_server(**isnet.env()).wait_ready()
    body = images.jpeg(images.photo("chelsea"))
    ours, theirs = by_name.post(body), custom.post(body)
    assert ours.headers["X-Model"] == theirs.headers["X-Model"] == "isnet-general-use", "a stand-in is the model"
    assert "memory arena off" in by_name.log() and "memory arena off" in custom.log()
    assert np.array_equal(alpha_of(ours.content), alpha_of(theirs.content))


def test_every_route_and_output_on_the_quality_tier(quality_server: ServerProcess) -> None:
    photo = images.jpeg(images.photo("astronaut"))
    webp = requests.post(quality_server.url + "/?format=webp&crop=1", data=photo, timeout=120)
    assert webp.status_code == 200 and webp.headers["Content-Type"] == "image/webp"
    pixian = requests.post(quality_server.url + "/api/v2/remove-background", files={"image": photo}, timeout=120)
    assert pixian.status_code == 200 and pixian.headers["X-Model"] == LABEL
    removebg = requests.post(
        quality_server.url + "/v1.0/removebg", files={"image_file": photo}, data={"format": "zip"}, timeout=120
    )
    assert removebg.status_code == 200 and removebg.headers["Content-Type"] == "application/zip"


@pytest.mark.parametrize(("name", "size"), [("chelsea", (4000, 3000))])
def test_a_phone_photo_keeps_its_size_and_gets_the_fused_mask(quality_server, start_server, name, size) -> None:
    """The served mask is the tier's rule applied at the photo's size: ISNet's mask of the photo squashed to its
    1024² input (from a server of ISNet alone), raised by u2netp's sure foreground on the same input (u2netp in
    this process, loaded as the server loads it), then scaled up to 4000×3000. ISNet's mask alone must be
    visibly further from it, or this photo could not tell the two apart."""
    picture = images.photo(name).resize(size, Image.Resampling.BICUBIC)
    body = images.jpeg(picture)
    response = quality_server.post(body, params={"only_mask": "1"})
    assert response.status_code == 200
    assert response.headers["X-Input-Width"] == str(size[0])
    served = Image.open(io.BytesIO(response.content))
    assert served.size == size and served.mode == "L"
    squashed = Image.open(io.BytesIO(body)).convert("RGB").resize(ISNET_INPUT, Image.Resampling.LANCZOS)
    alone = start_server(**isnet.int8_env()).wait_ready()
    isnet_mask = Image.open(io.BytesIO(alone.post(images.encode(squashed, "PNG"), params={"only_mask": "1"}).content))
    assert isnet_mask.size == ISNET_INPUT
    core = open_session(ModelChoice(models.QUALITY_CORE), 2, arena=False).predict(squashed)[0]
    expected = np.asarray(with_core(isnet_mask, core).resize(size, Image.Resampling.BILINEAR), dtype=float)
    off = np.abs(np.asarray(served, dtype=float) - expected)
    without_core = np.abs(np.asarray(isnet_mask.resize(size, Image.Resampling.BILINEAR), dtype=float) - expected)
    assert off.mean() < FUSED_TOLERANCE and np.percentile(off, 99.9) <= 2, (off.mean(), off.max())
    assert without_core.mean() > 5 * FUSED_TOLERANCE, without_core.mean()
