"""Option values as clients write them, read into typed values or refused naming the field."""

from __future__ import annotations

import tracemalloc

import pytest

from function.errors import InvalidOption
from function.request import options
from function.request.options import Length, Margin, Options


@pytest.mark.parametrize(
    ("text", "rgba"),
    [
        ("#fff", (255, 255, 255, 255)),
        ("fff", (255, 255, 255, 255)),
        ("#0f08", (0, 255, 0, 136)),
        ("#12ab56", (0x12, 0xAB, 0x56, 255)),
        ("12AB56", (0x12, 0xAB, 0x56, 255)),
        ("#12ab5680", (0x12, 0xAB, 0x56, 0x80)),
        ("red", (255, 0, 0, 255)),
        (" white ", (255, 255, 255, 255)),
    ],
)
def test_colours(text: str, rgba: tuple[int, int, int, int]) -> None:
    assert options.color("bg_color", text) == rgba


@pytest.mark.parametrize("text", ["", "#12", "#12345", "#gggggg", "not-a-colour", "#1234567890"])
def test_a_bad_colour_names_its_field(text: str) -> None:
    with pytest.raises(InvalidOption, match=r"^background\.color: expected a colour") as raised:
        options.color("background.color", text)
    assert raised.value.field == "background.color"
    assert raised.value.status == 400
    assert raised.value.code == "invalid_option"


@pytest.mark.parametrize(
    "text", ["rgb(99999999999999999999,0,0)", "rgb(256,0,0)", "hsl(0,1000%,50%)", "hsv(0,999%,50%)", "rgba(1,2,3,999)"]
)
def test_a_colour_outside_0_to_255_is_refused(text: str) -> None:
    """Pillow reads CSS functions as they are written: rgb(99999999999999999999,0,0) made Image.new() overflow
    (a 500), rgb(256,0,0) was clamped, hsv(0,999%,50%) gave negative parts."""
    with pytest.raises(InvalidOption, match="outside the colours there are"):
        options.color("bg_color", text)
    assert options.color("bg_color", "rgb(255,0,0)") == (255, 0, 0, 255)


@pytest.mark.parametrize("value", ["9" * 5000, "0" * 5000 + "101", " 1_0", "٣", "+5"])
def test_a_whole_number_past_its_bound_or_not_ascii_is_an_invalid_option(value: str) -> None:
    """Python's int() refuses more than 4300 digits with a ValueError of its own: that was a 500."""
    with pytest.raises(InvalidOption, match=r"^quality: "):
        options.whole("quality", value, 1, 100)
    assert options.whole("quality", "0" * 5000 + "100", 1, 100) == 100


def test_margins_follow_css_order() -> None:
    px, pct = Length(10, percent=False), Length(5, percent=True)
    assert options.margin("m", "10px") == Margin(px, px, px, px)
    assert options.margin("m", "10 5%") == Margin(px, pct, px, pct)
    assert options.margin("m", "10px,5%, 0") == Margin(px, pct, Length(0, percent=False), pct)
    assert options.margin("m", "1 2 3 4") == Margin(*(Length(value, percent=False) for value in (1, 2, 3, 4)))
    assert options.margin("m", "0").empty
    assert Length(10, percent=True).pixels(333) == 33
    assert Length(7.6, percent=False).pixels(999) == 8


@pytest.mark.parametrize("text", ["", "1 2 3 4 5", "-5px", "10em", "101%", "10001px", "px"])
def test_a_bad_margin_names_its_field(text: str) -> None:
    with pytest.raises(InvalidOption, match=r"^result\.margin: "):
        options.margin("result.margin", text)


def test_booleans_whole_numbers_choices_and_sizes() -> None:
    assert options.boolean("crop", "TRUE") and options.boolean("crop", "1") and options.boolean("crop", "yes")
    assert not options.boolean("crop", "false") and not options.boolean("crop", "0")
    assert options.whole("q", " 75 ", 1, 100) == 75
    assert options.choice("f", "PNG", ("png", "jpeg")) == "png"
    assert options.size_pair("t", "1024 768") == (1024, 768)
    assert options.size_pair("t", "1024x768") == (1024, 768)
    assert options.named_size("size", "preview") == 250_000
    assert options.named_size("size", "full") is None


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (lambda text: options.boolean("crop", text), "maybe", "crop: expected true or false"),
        (lambda text: options.whole("quality", text, 1, 100), "0", "quality: must be from 1 to 100"),
        (lambda text: options.whole("quality", text, 1, 100), "high", "quality: expected a whole number"),
        (lambda text: options.choice("format", text, ("png",)), "gif", "format: expected one of png"),
        (lambda text: options.size_pair("result.target_size", text), "100", "result.target_size: expected a width"),
        (lambda text: options.size_pair("result.target_size", text), "0 10", "result.target_size: must be from 1"),
        (lambda text: options.named_size("size", text), "huge", "size: expected one of preview"),
    ],
)
def test_each_bad_value_is_refused_naming_its_field(parse, text: str, message: str) -> None:
    with pytest.raises(InvalidOption, match=f"^{message}"):
        parse(text)


def test_the_plain_output_and_the_conflicts() -> None:
    assert Options().plain
    assert not Options(format="webp").plain
    assert options.conflict(Options(format="delta_png")) is None
    for combined in (
        Options(format="delta_png", crop=True),
        Options(format="delta_png", bg_color=(1, 2, 3, 255)),
        Options(format="delta_png", margin=options.margin("m", "1px")),
        Options(format="delta_png", target_size=(10, 10)),
        Options(format="delta_png", only_mask=True),
        Options(format="zip", only_mask=True),
    ):
        assert options.conflict(combined)


@pytest.mark.parametrize("parse", [options.margin, options.size_pair])
def test_a_long_list_is_refused_without_splitting_all_of_it(parse) -> None:
    """A 9 MB field of "12 12 12 …" once became three million strings (~200 MB) before its count was checked."""
    text = "12 " * 3_000_000
    tracemalloc.start()
    try:
        with pytest.raises(InvalidOption, match="…"):
            parse("field", text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * len(text)
