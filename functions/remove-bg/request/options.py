"""What a request asks of its output, as one typed object, and the parsers that build it from text.

Every route (ours, Pixian's, remove.bg's) reads its own field names into the same Options, so
the image code sees one vocabulary. A value that does not parse raises InvalidOption naming the
field as the client spelled it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from PIL import ImageColor

from ..errors import InvalidOption, echo
from ..output.limits import MAX_SIDE

Format = Literal["auto", "png", "webp", "jpeg", "delta_png", "zip"]
Alignment = Literal["top", "middle", "bottom"]
Color = tuple[int, int, int, int]  # RGBA, 0..255 each

TRUE = ("true", "1", "yes", "on")
FALSE = ("false", "0", "no", "off", "")
MAX_MARGIN_PX = 10_000
# remove.bg's names for output sizes, in pixels; "full", "auto" and "50MP" leave the size alone.
NAMED_SIZES = {
    "preview": 250_000,
    "small": 250_000,
    "regular": 250_000,
    "medium": 1_500_000,
    "hd": 4_000_000,
    "4k": 10_000_000,
    "full": None,
    "auto": None,
    "50mp": None,
}
_HEX = re.compile(r"[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}")
# ASCII digits and separators only, spaces around: exactly what openapi.yaml's patterns say (Python's \d and
# \s and int() would also take other scripts' digits, tabs, underscores and signs).
_DIGITS = re.compile(r"[0-9]+")
_LENGTH = re.compile(r"([0-9]+(?:\.[0-9]+)?)(px|%)?", re.IGNORECASE | re.ASCII)
_MARGIN_SEPARATOR = re.compile(r"[ ,]+")
_SIZE_SEPARATOR = re.compile(r"[ ,xX]+")


@dataclass(frozen=True)
class Length:
    value: float
    percent: bool  # a share of the foreground's width (left, right) or height (top, bottom)

    def pixels(self, side: int) -> int:
        return round(side * self.value / 100) if self.percent else round(self.value)

    def __str__(self) -> str:
        return f"{self.value:g}{'%' if self.percent else 'px'}"


@dataclass(frozen=True)
class Margin:
    top: Length
    right: Length
    bottom: Length
    left: Length

    @property
    def empty(self) -> bool:
        return all(length.value == 0 for length in (self.top, self.right, self.bottom, self.left))

    def __str__(self) -> str:
        return " ".join(str(length) for length in (self.top, self.right, self.bottom, self.left))


NO_LENGTH = Length(0.0, percent=False)
NO_MARGIN = Margin(NO_LENGTH, NO_LENGTH, NO_LENGTH, NO_LENGTH)


@dataclass(frozen=True)
class Options:
    """The output a request asks for; the defaults are the plain full-size PNG cut-out."""

    format: Format = "png"
    quality: int | None = None  # JPEG 1..100 (None: DEFAULT_JPEG_QUALITY); WebP: None is lossless
    bg_color: Color | None = None  # composited under the cut-out
    crop: bool = False  # to the foreground's bounding box
    margin: Margin = NO_MARGIN  # added around the result (after any crop)
    only_mask: bool = False  # the alpha alone, as grayscale
    max_pixels: int | None = None  # the output's pixel limit, below the function's MAX_PIXELS
    target_size: tuple[int, int] | None = None  # fit the result into exactly this canvas
    vertical_alignment: Alignment = "middle"  # where a target canvas puts the result

    @property
    def plain(self) -> bool:
        """True for the default output, the full-size RGBA PNG (the log line then names no options)."""
        return self == PLAIN


PLAIN = Options()


def boolean(field: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise InvalidOption(field, f"expected true or false, got {echo(value)}")


def whole(field: str, value: str, low: int, high: int) -> int:
    if not _DIGITS.fullmatch(value.strip(" ")):
        raise InvalidOption(field, f"expected a whole number, got {echo(value)}")
    digits = value.strip(" ").lstrip("0") or "0"
    if len(digits) > len(str(high)):  # also keeps int() from its own ValueError past 4300 digits
        raise InvalidOption(field, f"must be from {low} to {high}, got {echo(digits)}")
    number = int(digits)
    if not low <= number <= high:
        raise InvalidOption(field, f"must be from {low} to {high}, got {number}")
    return number


def choice(field: str, value: str, choices: tuple[str, ...]) -> str:
    lowered = value.strip().lower()
    if lowered not in choices:
        raise InvalidOption(field, f"expected one of {', '.join(choices)}, got {echo(value)}")
    return lowered


def color(field: str, value: str) -> Color:
    """#RGB, #RGBA, #RRGGBB, #RRGGBBAA (the # optional) or a CSS colour name."""
    text = value.strip()
    if _HEX.fullmatch(text):
        text = "#" + text
    try:
        found = ImageColor.getrgb(text)
    except ValueError:
        expected = "expected a colour such as #RRGGBB, #RGB, #RRGGBBAA or a name"
        raise InvalidOption(field, f"{expected}: {echo(value)}") from None
    rgba = (found[0], found[1], found[2], found[3] if len(found) == 4 else 255)
    if not all(0 <= part <= 255 for part in rgba):  # Pillow reads rgb(300,0,0) and hsl(0,999%,50%) as they say
        outside = "is outside the colours there are: each part from 0 to 255 (0% to 100%)"
        raise InvalidOption(field, f"{echo(value)} {outside}")
    return rgba


def margin(field: str, value: str) -> Margin:
    """One to four lengths in px or % (CSS order: top, right, bottom, left), by spaces or commas."""
    parts = _MARGIN_SEPARATOR.split(value.strip(" ,"), maxsplit=4)  # a fifth part is already too many
    if not 1 <= len(parts) <= 4:
        raise InvalidOption(field, f"expected 1 to 4 lengths such as '10px' or '5%', got {echo(value)}")
    lengths = [_length(field, part) for part in parts]
    top, right, bottom, left = {
        1: lambda t: (t, t, t, t),
        2: lambda t, r: (t, r, t, r),
        3: lambda t, r, b: (t, r, b, r),
        4: lambda t, r, b, left: (t, r, b, left),
    }[len(lengths)](*lengths)
    return Margin(top, right, bottom, left)


def size_pair(field: str, value: str) -> tuple[int, int]:
    """'W H' (or 'WxH', 'W,H'): a canvas size in pixels."""
    parts = _SIZE_SEPARATOR.split(value.strip(" "), maxsplit=2)  # a third part is already too many
    if len(parts) != 2 or not all(parts):
        raise InvalidOption(field, f"expected a width and a height such as '1024 768', got {echo(value)}")
    width, height = (whole(field, part, 1, MAX_SIDE) for part in parts)
    return (width, height)


def named_size(field: str, value: str) -> int | None:
    """A remove.bg size name as a pixel limit (None: no limit)."""
    return NAMED_SIZES[choice(field, value, tuple(NAMED_SIZES))]


def _length(field: str, text: str) -> Length:
    found = _LENGTH.fullmatch(text)
    if found is None:
        raise InvalidOption(field, f"expected a length such as '10px', '10' or '5%', got {echo(text)}")
    value, percent = Decimal(found.group(1)), found.group(2) == "%"
    if value > (100 if percent else MAX_MARGIN_PX):  # exact: 100.000000000000000001% is over, as a float is not
        raise InvalidOption(field, f"{echo(text)} is over the largest margin, 100% or {MAX_MARGIN_PX}px")
    return Length(float(value), percent)


def conflict(options: Options) -> str | None:
    """Why the output format cannot carry the other options; None when it can."""
    if options.format == "delta_png" and (
        options.crop or not options.margin.empty or options.target_size or options.bg_color or options.only_mask
    ):
        return "delta_png is the input's own size and pixels: no crop, margin, target size, background or mask only"
    if options.only_mask and options.format == "zip":
        return "the mask alone is written as png, jpeg or webp"
    return None
