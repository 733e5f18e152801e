"""The foreground's box (found through the small mask, checked against a full search) and the canvas layout."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from function.errors import OutputTooLarge
from function.model.load import open_session
from function.model.locate import ModelChoice
from function.output.layout import check, plan
from function.output.subject import FOREGROUND_ALPHA, Box, foreground_box
from function.picture.mask import Masker
from function.request.options import Options, margin
from tests.support import images


@pytest.fixture(scope="module")
def masker() -> Masker:
    return Masker(open_session(ModelChoice("u2netp"), 2, arena=True))


def _full_search(alpha: Image.Image) -> Box | None:
    found = np.argwhere(np.asarray(alpha) >= FOREGROUND_ALPHA)
    if not len(found):
        return None
    (top, left), (bottom, right) = found.min(axis=0), found.max(axis=0)
    return Box(int(left), int(top), int(right - left + 1), int(bottom - top + 1))


@pytest.mark.parametrize("name", images.PHOTOS)
@pytest.mark.parametrize("size", [(2000, 1500), (333, 1777), (160, 90), (40, 7), (1, 300), (300, 1)])
def test_the_box_is_the_one_a_full_search_finds(masker: Masker, name: str, size: tuple[int, int]) -> None:
    picture = images.photo(name).resize(size, Image.Resampling.BICUBIC)
    mask = masker.mask(picture)
    assert foreground_box(mask.full, mask.small) == _full_search(mask.full)


def test_a_box_made_by_hand_and_an_empty_mask() -> None:
    small = Image.new("L", (32, 32))
    small.paste(255, (10, 12, 20, 16))
    full = small.resize((320, 640), Image.Resampling.BILINEAR)
    assert foreground_box(full, small) == _full_search(full)
    assert foreground_box(Image.new("L", (320, 640), FOREGROUND_ALPHA - 1), Image.new("L", (32, 32), 255)) is None
    assert foreground_box(full, Image.new("L", (32, 32), FOREGROUND_ALPHA - 1)) is None


FOREGROUND = Box(100, 50, 200, 100)


def test_no_options_is_the_identity() -> None:
    layout = plan((640, 480), FOREGROUND, Options(), 25_000_000)
    assert layout.identity
    assert layout.place(FOREGROUND) == FOREGROUND


def test_crop_with_margins_in_pixels_and_percent() -> None:
    layout = plan((640, 480), FOREGROUND, Options(crop=True, margin=margin("m", "10px 10%")), 25_000_000)
    assert layout.region == FOREGROUND
    assert layout.canvas == (200 + 2 * 20, 100 + 2 * 10)
    assert layout.placed == Box(20, 10, 200, 100)
    assert layout.place(FOREGROUND) == Box(20, 10, 200, 100)


@pytest.mark.parametrize("box", [Box(0, 0, 600, 480), Box(0, 0, 640, 300), Box(0, 0, 1, 1)])
def test_a_crop_whose_box_starts_at_the_corner_is_still_a_crop(box: Box) -> None:
    # it once counted as the identity, and the whole picture went out under the box's size
    layout = plan((640, 480), box, Options(crop=True), 25_000_000)
    assert not layout.identity
    assert layout.canvas == box.size


def test_crop_without_a_foreground_keeps_the_whole_picture() -> None:
    assert plan((640, 480), None, Options(crop=True), 25_000_000).identity


@pytest.mark.parametrize(("alignment", "top"), [("top", 0), ("middle", 150), ("bottom", 300)])
def test_a_target_size_fits_the_result_and_aligns_it(alignment: str, top: int) -> None:
    options = Options(crop=True, target_size=(400, 500), vertical_alignment=alignment)  # type: ignore[arg-type]
    layout = plan((640, 480), FOREGROUND, options, 25_000_000)
    assert layout.canvas == (400, 500)
    assert layout.placed == Box(0, top, 400, 200)  # 200×100 scaled by 2, centred across, aligned down


def test_the_canvas_is_scaled_to_the_pixel_limit() -> None:
    wide = plan((4000, 3000), FOREGROUND, Options(margin=margin("m", "2000px")), 12_000_000)
    assert wide.canvas[0] * wide.canvas[1] <= 12_000_000
    assert wide.placed.width / 4000 == pytest.approx(wide.canvas[0] / 8000, abs=1e-3)


@pytest.mark.parametrize(
    ("size", "options", "named"),
    [
        ((65501, 10), Options(format="jpeg"), "format"),
        ((16384, 10), Options(format="webp"), "format"),
        ((65501, 10), Options(format="zip"), "format"),
        ((100, 16384), Options(format="webp", only_mask=True), "format"),
        ((200, 100), Options(format="jpeg", target_size=(65501, 100)), "target_size"),
        ((65500, 10), Options(format="jpeg", margin=margin("m", "0 1px")), "margin"),
        ((65535, 10), Options(margin=margin("m", "0 0 0 1px")), "margin"),
        ((10, 65535), Options(format="auto", margin=margin("m", "1px 0 0")), "margin"),
    ],
)
def test_a_side_longer_than_the_format_holds_is_refused_naming_the_option(size, options: Options, named: str) -> None:
    """Refused from the plan's arithmetic, before a pixel is moved; once scaled down it was a 500 from libjpeg."""
    with pytest.raises(OutputTooLarge) as refused:
        plan(size, None, options, 25_000_000)
    assert refused.value.message.startswith(f"{named}: ")
    assert refused.value.message_for(lambda name: f"my.{name}").startswith(f"my.{named}: ")
    with pytest.raises(OutputTooLarge):
        check(size, options, 25_000_000)


@pytest.mark.parametrize(
    ("size", "options"),
    [
        ((65500, 10), Options(format="jpeg")),
        ((16383, 10), Options(format="webp")),
        ((65535, 10), Options(format="auto")),
        ((65535, 10), Options(format="delta_png")),
        ((200, 100), Options(format="jpeg", target_size=(65500, 100))),
        ((200, 100), Options(format="webp", target_size=(65535, 65535))),  # scaled to the pixel limit first
        ((65535, 65535), Options(margin=margin("m", "100%"))),
    ],
)
def test_a_side_the_format_holds_is_planned(size, options: Options) -> None:
    layout = plan(size, None, options, 25_000_000)
    assert max(layout.canvas) <= {"jpeg": 65500, "webp": 16383}.get(options.format, 65535)
    check(size, options, 25_000_000)


def test_a_crop_is_checked_once_its_box_is_known() -> None:
    """Before the mask a crop's canvas is unknown: the whole strip would be too long, its subject is not."""
    options = Options(format="jpeg", crop=True, margin=margin("m", "10px"))
    check((65535, 10), options, 25_000_000)
    assert plan((65535, 10), Box(0, 0, 100, 10), options, 25_000_000).canvas == (120, 30)
    with pytest.raises(OutputTooLarge, match=r"^margin: "):
        plan((65535, 10), Box(0, 0, 65490, 10), options, 25_000_000)
