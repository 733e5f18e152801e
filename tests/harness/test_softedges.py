"""The soft-edge yardstick: composites with a known alpha and foreground, and its two errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness import softedges
from tests.support import images


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> list[softedges.Composite]:
    folder: Path = tmp_path_factory.mktemp("set")
    photo = images.photo("coffee").resize((200, 150))
    truth = Image.new("L", photo.size)
    truth.paste(255, (50, 30, 150, 120))
    photo.save(folder / "cup.png")
    truth.save(folder / "cup-alpha.png")

    class Sample:
        stem, image, alpha = "cup", folder / "cup.png", folder / "cup-alpha.png"

    return softedges.composites([Sample()])


def test_one_composite_per_background_with_a_feathered_alpha(made) -> None:
    assert [one.name for one in made] == [f"cup:{name}" for name in ("red", "green", "gradient", "checker")]
    alpha = made[0].alpha
    assert alpha.max() == pytest.approx(1, abs=1e-6) and alpha.min() == 0
    assert ((alpha > 0.02) & (alpha < 0.98)).sum() > 500, "a soft band"
    red = np.asarray(Image.open(io.BytesIO(made[0].body)))
    assert tuple(red[0, 0]) == (230, 30, 30)
    assert np.abs(red[75, 100].astype(float) - made[0].foreground[75, 100]).max() <= 0.5


def test_the_true_cutout_has_no_error(made) -> None:
    for one in made:
        perfect = np.dstack([np.rint(one.foreground), np.rint(one.alpha * 255)]).astype(np.uint8)
        alpha_error, halo = softedges.errors(perfect, one)
        assert alpha_error < 0.002 and halo < 0.5


def test_the_composite_kept_whole_shows_alpha_error_and_a_halo(made) -> None:
    for one in made:
        mixed = np.asarray(Image.open(io.BytesIO(one.body)).convert("RGB"))
        hard = np.dstack([mixed, np.where(one.alpha > 0.02, 255, 0)]).astype(np.uint8)
        alpha_error, halo = softedges.errors(hard, one)
        assert alpha_error > 0.2, "a hard alpha where the truth is soft"
        assert halo > 5, "the background's colour left in the soft band"
