"""The mask step: the model sees exactly rembg's input, however the resize is computed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from function.mask import Masker, model_input_size
from function.model import open_session
from tests.support import images


@pytest.fixture(scope="module")
def session():
    return open_session("u2netp", 2)


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
