"""The mask step: the model sees exactly rembg's input, however the resize is computed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from function.model.load import open_session
from function.model.locate import ModelChoice
from function.picture.mask import Masker, model_input_size, with_core
from harness import isnet
from tests.support import images
from tests.support.server import MODEL_HOME


@pytest.fixture(scope="module")
def session():
    return open_session(ModelChoice("u2netp"), 2, arena=True)


def test_the_model_input_size_comes_from_the_onnx_graph(session) -> None:
    assert model_input_size(session) == (320, 320)


@pytest.mark.parametrize("size", [(1280, 960), (1176, 2265)])
def test_the_model_sees_rembgs_own_input(session, size: tuple[int, int]) -> None:
    """predict() gets the picture already at the model's size, resized as rembg resizes it."""
    picture = images.photo("chelsea").resize(size, Image.Resampling.BICUBIC)
    ours = Masker(session).mask(picture).full
    theirs = session.predict(picture.resize((320, 320), Image.Resampling.LANCZOS))[0]
    assert np.array_equal(np.asarray(ours), np.asarray(theirs.resize(picture.size, Image.Resampling.BILINEAR)))


def test_the_mask_has_the_pictures_size(session) -> None:
    picture = images.photo("coffee")
    mask = Masker(session).mask(picture).full
    assert mask.mode == "L"
    assert mask.size == picture.size
    assert 0 < np.asarray(mask).mean() < 255


def test_the_core_model_adds_only_what_it_is_sure_of_where_the_model_saw_something() -> None:
    model = Image.fromarray(np.array([[0, 10, 10, 200, 50]], dtype=np.uint8))
    core = Image.fromarray(np.array([[255, 255, 100, 255, 192]], dtype=np.uint8))
    raised = np.asarray(with_core(model, core))
    # ruled out by the model: stays out; sure core: in whole; unsure core: adds nothing; the ramp between
    assert raised.tolist() == [[0, 255, 10, 255, round(192 * (192 - 128) / 127)]]


def test_isnet_with_u2netp_s_core_at_isnet_s_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("U2NET_HOME", str(MODEL_HOME))
    main = open_session(ModelChoice("dis_custom", isnet.path()), 2, arena=False)
    core = open_session(ModelChoice("u2netp"), 2, arena=False)
    picture = images.photo("astronaut").resize((800, 600), Image.Resampling.BICUBIC)
    alone, fused = Masker(main).mask(picture), Masker(main, core).mask(picture)
    assert fused.small.size == alone.small.size == (1024, 1024)
    assert fused.full.size == picture.size
    small = picture.resize((1024, 1024), Image.Resampling.LANCZOS)
    expected = with_core(alone.small, core.predict(small)[0])
    assert np.array_equal(np.asarray(fused.small), np.asarray(expected))
    assert (np.asarray(fused.small) >= np.asarray(alone.small)).all(), "the core only adds"
    assert (np.asarray(fused.small) > np.asarray(alone.small).astype(int) + 1).any(), "and here it does add"
