"""The layout over random plans: the subject inside the canvas, never empty, the canvas never over the pixel limit.

Examples written by hand (test_layout.py) missed the rounding: a scaled plan put the subject 1-2 px
past the canvas's edge (clipped by the paste), an extreme one placed it wholly off the canvas (an
empty picture), and a long thin canvas scaled to the limit kept a side of 1 px and went over it.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from function.errors import OutputTooLarge
from function.output import limits
from function.output.layout import Layout, arrange, plan
from function.output.subject import Box, Subject
from function.request.options import MAX_MARGIN_PX, Length, Margin, Options

SIDES = st.integers(1, limits.MAX_SIDE)
LENGTHS = st.one_of(
    st.builds(Length, st.integers(0, MAX_MARGIN_PX).map(float), st.just(False)),
    st.builds(Length, st.integers(0, 100).map(float), st.just(True)),
)
MARGINS = st.builds(Margin, LENGTHS, LENGTHS, LENGTHS, LENGTHS)
FORMATS = st.sampled_from(sorted(limits.MAX_SIDES))


@st.composite
def boxes(draw: st.DrawFn, size: tuple[int, int]) -> Box:
    """A non-empty box inside a picture of `size`."""
    left, top = draw(st.integers(0, size[0] - 1)), draw(st.integers(0, size[1] - 1))
    return Box(left, top, draw(st.integers(1, size[0] - left)), draw(st.integers(1, size[1] - top)))


@st.composite
def cases(draw: st.DrawFn, most_side: int, most_pixels: int) -> tuple[tuple[int, int], Box | None, Options, int]:
    """A picture's size, its subject's box (or none found), options and a pixel limit."""
    size = (draw(st.integers(1, most_side)), draw(st.integers(1, most_side)))
    foreground = draw(st.one_of(st.none(), boxes(size)))
    options = Options(
        format=draw(FORMATS),
        crop=draw(st.booleans()),
        margin=draw(MARGINS),
        target_size=draw(st.one_of(st.none(), st.tuples(SIDES, SIDES))),
        vertical_alignment=draw(st.sampled_from(["top", "middle", "bottom"])),
    )
    return size, foreground, options, draw(st.integers(100, most_pixels))


def inside(box: Box, canvas: tuple[int, int]) -> bool:
    """`box` has pixels and all of them are on `canvas`."""
    left, top, right, bottom = box.corners
    return 0 <= left < right <= canvas[0] and 0 <= top < bottom <= canvas[1]


def planned(case: tuple[tuple[int, int], Box | None, Options, int]) -> Layout | None:
    """The plan, or None where the format cannot hold its canvas (refused, as test_layout.py shows)."""
    size, foreground, options, max_pixels = case
    try:
        return plan(size, foreground, options, max_pixels)
    except OutputTooLarge:
        return None


@settings(max_examples=1000, deadline=None)
@given(cases(limits.MAX_SIDE, 1_000_000_000))
# the review's cases: a 65535×1 strip scaled to 100 px kept its 1 px side and was 655×1; a subject of one
# pixel at the far edge of a scaled margin was placed past the canvas
@example(((65_535, 1), None, Options(), 100))
@example(((640, 480), Box(639, 479, 1, 1), Options(margin=Margin(*[Length(10_000.0, False)] * 4)), 100))
# a target size with the picture at its bottom: the rounded offset and height put the last row 1 px past the canvas
@example(((16, 44), Box(4, 43, 2, 1), Options(target_size=(14, 45), vertical_alignment="bottom"), 1_000_000))
def test_the_plan_keeps_the_subject_on_a_canvas_within_the_limit(case) -> None:
    layout = planned(case)
    if layout is None:
        return
    (_, foreground, options, max_pixels), canvas = case, layout.canvas
    assert canvas[0] >= 1 and canvas[1] >= 1
    assert canvas[0] * canvas[1] <= max_pixels, f"{canvas} is over {max_pixels} pixels"
    assert limits.fits(options.format, canvas)
    assert inside(layout.placed, canvas), f"the picture's part goes to {layout.placed} on {canvas}"
    if foreground is not None:
        assert inside(layout.place(foreground), canvas), f"the subject goes to {layout.place(foreground)} on {canvas}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(300, 40_000))
def test_the_arranged_picture_shows_its_subject_where_the_headers_say(case) -> None:
    """The pixels, moved: an opaque subject is on the canvas, uncut, exactly where the plan put it."""
    size, foreground, options, max_pixels = case
    layout = planned(case)
    if layout is None or foreground is None or max(layout.canvas) > 4 * 300:
        return
    alpha = Image.new("L", size, 0)
    alpha.paste(255, foreground.corners)
    # kept: the subject's own box when cropping; else all of it where it is the whole picture
    whole = options.crop or foreground == Box(0, 0, *size)
    arranged = arrange(Image.new("RGB", size), Subject(alpha, foreground), options, max_pixels)
    assert arranged.alpha.size == layout.canvas
    assert arranged.foreground is not None and inside(arranged.foreground, layout.canvas)
    if whole:  # an opaque part scaled is opaque: its box on the canvas is the plan's, to the pixel
        assert arranged.alpha.getbbox() == layout.placed.corners
        assert arranged.foreground == layout.placed
