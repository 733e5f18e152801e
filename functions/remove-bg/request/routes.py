"""The three request dialects: ours, Pixian's and remove.bg's, each read into (image, Options).

A route knows its field names, its defaults and its error shape, nothing about pixels; the
pipeline behind all three is the same. A field a route does not read is refused on ours (400
unknown_option, naming the nearest field we have), so a misspelt option never passes unseen; the
compatible routes ignore it, as Pixian and remove.bg do, and name it in the answer's X-Ignored-Fields.
The template answers paths other than the function's routes with a 404; route_for() reads any other
path as ours.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from difflib import get_close_matches
from functools import cache, cached_property

from ..errors import (
    ApiError,
    EmptyBody,
    InvalidOption,
    MultipleImages,
    NoImage,
    UnknownOption,
    UnsupportedOption,
    echo,
    error_body,
)
from ..headers import field_name
from . import options as parse
from .intake import JSON, URLENCODED, Form, decode_base64, read_form
from .options import Options

PIXIAN_PATH = "/api/v2/remove-background"
REMOVEBG_PATH = "/v1.0/removebg"
OWN_PATHS = ("/", "/remove-background")
NO_FETCHING = "this function never fetches URLs: send the image itself"
# Our own route's files, first found wins: the worker posts `image`, rembg's server takes `file`.
OWN_FILE_FIELDS = ("image", "file", "image_file")
OWN_FORMATS = ("auto", "png", "webp", "jpeg", "jpg", "delta_png", "zip")
PIXIAN_FORMATS = ("auto", "png", "jpeg", "delta_png")
PIXIAN_MAX_PIXELS = (100, 25_000_000)
PIXIAN_JPEG_QUALITY = 75
REMOVEBG_FORMATS = ("auto", "png", "jpg", "webp", "zip")
# remove.bg options that would change what is cut out or from where; refused rather than ignored.
REMOVEBG_UNSUPPORTED = ("image_url", "bg_image_url", "bg_image_file", "roi", "scale", "position")
# Our codes as remove.bg names them (its own names where it has one for the same thing).
REMOVEBG_CODES = {
    "empty_body": "missing_source",
    "no_image": "missing_source",
    "multiple_images": "multiple_sources",
    "corrupt_image": "failed_to_read_image",
    "unsupported_image": "invalid_file_type",
    "image_too_large": "resolution_too_high",
    "body_too_large": "file_too_large",
    "unauthorized": "auth_failed",
    "busy": "rate_limit_exceeded",
}
# X-Ignored-Fields names at most this many of the fields a compatible route ignored: the first ones sent.
MAX_IGNORED_NAMES = 10
# How alike a name must be to one of ours to be offered as "did you mean" (difflib's ratio; 0.6 is its default).
NEAR = 0.6


@dataclass(frozen=True)
class Request:
    image: bytes
    options: Options
    raw: bool = False  # the body itself is the image (no form part, no base64), as curl's -d and --data-binary send it
    ignored: tuple[str, ...] = ()  # fields sent that the route does not read, header-safe (headers.field_name)


@dataclass(frozen=True)
class Field:
    """A request field, the Options attribute it sets (None: checked only) and its parser (name, text → value)."""

    name: str
    attribute: str | None
    parse: Callable[[str, str], object]


ALIGNMENTS = ("top", "middle", "bottom")
_SHARED = (
    Field("margin", "margin", parse.margin),
    Field("target_size", "target_size", parse.size_pair),
    Field("vertical_alignment", "vertical_alignment", lambda name, text: parse.choice(name, text, ALIGNMENTS)),
)
OWN_FIELDS = (
    Field("format", "format", lambda name, text: _jpeg_named(parse.choice(name, text, OWN_FORMATS))),
    Field("quality", "quality", lambda name, text: parse.whole(name, text, 1, 100)),
    Field("bg_color", "bg_color", parse.color),
    Field("crop", "crop", parse.boolean),
    Field("only_mask", "only_mask", parse.boolean),
    Field("size", "max_pixels", parse.named_size),
    Field("max_pixels", "max_pixels", lambda name, text: parse.whole(name, text, 100, 1_000_000_000)),
    *_SHARED,
)
PIXIAN_FIELDS = (
    Field("test", None, parse.boolean),  # accepted and checked; there is no watermark here
    Field("max_pixels", "max_pixels", lambda name, text: parse.whole(name, text, *PIXIAN_MAX_PIXELS)),
    Field("background.color", "bg_color", parse.color),
    Field("result.crop_to_foreground", "crop", parse.boolean),
    *(Field(f"result.{field.name}", field.attribute, field.parse) for field in _SHARED),
    Field("output.format", "format", lambda name, text: parse.choice(name, text, PIXIAN_FORMATS)),
    Field("output.jpeg_quality", "quality", lambda name, text: parse.whole(name, text, 1, 100)),
)
REMOVEBG_FIELDS = (
    Field("size", "max_pixels", parse.named_size),
    Field("format", "format", lambda name, text: _jpeg_named(parse.choice(name, text, REMOVEBG_FORMATS))),
    Field("crop", "crop", parse.boolean),
    Field("crop_margin", "margin", parse.margin),
    Field("channels", "only_mask", lambda name, text: parse.choice(name, text, ("rgba", "alpha")) == "alpha"),
    Field("bg_color", "bg_color", parse.color),
)


class Route:
    """Our own dialect: the raw body or a form part, options as query parameters or form fields."""

    credits_header = False
    fields = OWN_FIELDS
    defaults = Options()
    format_field = "format"
    # Where the image comes: a file part (the first of these found wins), or base64 text on the
    # compatible routes; and the fields a route refuses rather than ignores.
    file_fields: tuple[str, ...] = OWN_FILE_FIELDS
    base64_fields: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()

    def read(self, body: bytes, content_type: str | None, query: Mapping[str, str]) -> Request:
        form = read_form(body, content_type)
        if form is None:
            self.refuse_unknown(query)
            return Request(body, self.options(query), raw=True)
        image = next((form.files[name] for name in self.file_fields if name in form.files), None)
        if image is None and (text := next((name for name in self.file_fields if name in form.fields), None)):
            raise _text_part(text)
        if image is None:
            raise NoImage(f"the multipart form has no file part named {', '.join(self.file_fields)}")
        if not image:
            raise EmptyBody("the form part holding the image is empty")
        self.refuse_unknown([*query, *form.fields, *form.files])
        return Request(image, self.options({**query, **form.fields}))

    @cached_property
    def known(self) -> frozenset[str]:
        """Every name this route reads: its options, where the image comes, and the fields it refuses."""
        names = (field.name for field in self.fields)
        return frozenset((*names, *self.file_fields, *self.base64_fields, *self.refused))

    def unknown(self, names: Iterable[str]) -> tuple[str, ...]:
        """The names among `names` this route does not read, each once, in the order sent."""
        return tuple(dict.fromkeys(name for name in names if name not in self.known))

    def refuse_unknown(self, names: Iterable[str]) -> None:
        """UnknownOption for the first name sent that this route does not read, with the nearest it does."""
        if unknown := self.unknown(names):
            nearest = _nearest(unknown[0])
            if nearest is not None:
                raise UnknownOption(f"{echo(unknown[0])} is not a field here: did you mean {nearest}?")
            fields = ", ".join(field.name for field in self.fields)
            raise UnknownOption(
                f"{echo(unknown[0])} is not a field here; the fields are {fields}, and the image is the body or the"
                f" file part {' or '.join(self.file_fields)}"
            )

    def options(self, given: Mapping[str, str]) -> Options:
        found_fields = [field for field in self.fields if field.name in given]
        values = {field.attribute: field.parse(field.name, given[field.name]) for field in found_fields}
        values.pop(None, None)  # fields that are only checked
        found = replace(self.defaults, **values)
        if (problem := parse.conflict(found)) is not None:
            raise InvalidOption(self.format_field, problem)
        return found

    def error(self, error: ApiError) -> bytes:
        return self.error_body(error.status, error.code, error.message_for(self.field_name))

    def field_name(self, attribute: str) -> str:
        """What this route calls the field that sets an Options attribute (Pixian's `output.format`); of two,
        the one named as the attribute (ours takes `max_pixels` and remove.bg's `size`: `max_pixels`)."""
        names = [field.name for field in self.fields if field.attribute == attribute]
        return attribute if attribute in names else next(iter(names), attribute)

    def refuse(self, fields: Mapping[str, str], files: Mapping[str, bytes]) -> None:
        """UnsupportedOption for the first refused field sent, as a field or a file part."""
        for name in self.refused:
            if name in fields or name in files:
                if name.endswith(("_url", ".url")):
                    where = " or ".join((*self.file_fields, *self.base64_fields))
                    raise UnsupportedOption(f"{name}: {NO_FETCHING} as {where}")
                raise UnsupportedOption(f"{name}: not supported by this function")

    def ignored(self, fields: Mapping[str, str], files: Mapping[str, bytes]) -> tuple[str, ...]:
        """The fields and file parts sent that this route does not read (a compatible route's, which ignores
        them): the first MAX_IGNORED_NAMES, each as X-Ignored-Fields carries it."""
        return tuple(field_name(name) for name in self.unknown([*fields, *files])[:MAX_IGNORED_NAMES])

    def error_body(self, status: int, code: str, message: str) -> bytes:
        return error_body(status, code, message)


class PixianRoute(Route):
    """Pixian's POST /api/v2/remove-background: a form (multipart or urlencoded), its field names."""

    credits_header = True
    fields = PIXIAN_FIELDS
    defaults = Options(format="auto", quality=PIXIAN_JPEG_QUALITY)
    format_field = "output.format"
    file_fields = ("image",)
    base64_fields = ("image.base64",)
    refused = ("image.url",)

    def read(self, body: bytes, content_type: str | None, query: Mapping[str, str]) -> Request:
        sent = read_form(body, content_type, also=(URLENCODED,))
        form = sent or Form(files={self.file_fields[0]: body})
        fields = {**query, **form.fields}
        self.refuse(fields, form.files)
        image = _one_source(form, fields, self.file_fields[0], self.base64_fields[0])
        return Request(image, self.options(fields), raw=sent is None, ignored=self.ignored(fields, form.files))

    def error_body(self, status: int, code: str, message: str) -> bytes:
        """Pixian's shape, whose `code` is a number: the HTTP status here."""
        return _json({"error": {"status": status, "code": status, "message": message}})


class RemoveBgRoute(Route):
    """remove.bg's POST /v1.0/removebg: multipart, urlencoded or JSON, its field names and error shape."""

    credits_header = True
    fields = REMOVEBG_FIELDS
    defaults = Options(format="auto")
    file_fields = ("image_file",)
    base64_fields = ("image_file_b64",)
    refused = REMOVEBG_UNSUPPORTED

    def read(self, body: bytes, content_type: str | None, query: Mapping[str, str]) -> Request:
        sent = read_form(body, content_type, also=(URLENCODED, JSON))
        form = sent or Form(files={self.file_fields[0]: body})
        given = {**query, **form.fields}
        fields = {name: value for name, value in given.items() if value.strip()}
        self.refuse(fields, form.files)
        if not parse.boolean("crop", fields.get("crop", "false")):
            fields.pop("crop_margin", None)  # remove.bg adds the margin only around a crop
        image = _one_source(form, fields, self.file_fields[0], self.base64_fields[0])
        return Request(image, self.options(fields), raw=sent is None, ignored=self.ignored(given, form.files))

    def error(self, error: ApiError) -> bytes:
        code = "invalid_bg_color" if isinstance(error, InvalidOption) and error.field == "bg_color" else error.code
        return self.error_body(error.status, code, error.message_for(self.field_name))

    def error_body(self, status: int, code: str, message: str) -> bytes:
        return _json({"errors": [{"code": REMOVEBG_CODES.get(code, code), "title": message}]})


ROUTES: dict[str, Route] = {PIXIAN_PATH: PixianRoute(), REMOVEBG_PATH: RemoveBgRoute()}
OWN = Route()


def route_for(path: str) -> Route:
    return ROUTES.get(path, OWN)


def _nearest(name: str) -> str | None:
    """Our field nearest to `name`, when one is near: a misspelling of ours (`bg_colour`), or of the field of
    Pixian's or remove.bg's that sets the same option (`background.colour` → bg_color)."""
    names = _ours_by_name()
    found = get_close_matches(name.lower(), list(names), n=1, cutoff=NEAR)
    return names[found[0]] if found else None


@cache
def _ours_by_name() -> dict[str, str]:
    """Each name a route reads (lower-cased for the compatible routes') → our field for the same option; the
    compatible routes' fields that no field of ours sets are left out. The same every call: built once."""
    ours = {field.attribute: field.name for field in reversed(OWN_FIELDS)}  # the first of ours per attribute
    ours[None] = None
    names = {
        **{field.name.lower(): ours[field.attribute] for field in (*PIXIAN_FIELDS, *REMOVEBG_FIELDS)},
        **{field.name: field.name for field in OWN_FIELDS},
        **{name: name for name in OWN_FILE_FIELDS},
    }
    return {known: own for known, own in names.items() if own}


def _one_source(form: Form, fields: Mapping[str, str], file_field: str, base64_field: str) -> bytes:
    given = {name for name in (file_field, base64_field) if name in form.files or name in fields}
    if not given:
        raise NoImage(f"send the image as {file_field} (a file) or {base64_field}")
    if len(given) > 1:
        raise MultipleImages(f"send the image once: as {file_field} or as {base64_field}, not both")
    if file_field in given:
        if file_field not in form.files:  # a part without a filename arrives as text, its bytes mangled
            raise _text_part(file_field, f"; base64 text goes in {base64_field}")
        image = form.files[file_field]
    elif base64_field in fields:
        image = decode_base64(base64_field, fields[base64_field])
    else:  # base64 text sent as a file part
        image = decode_base64(base64_field, form.files[base64_field].decode("ascii", errors="replace"))
    if not image:
        raise EmptyBody(f"{given.pop()} is empty")
    return image


def _text_part(name: str, hint: str = "") -> NoImage:
    return NoImage(f"{name} must be a file part (with a filename): without one it arrives as text{hint}")


def _jpeg_named(kind: str) -> str:
    return "jpeg" if kind == "jpg" else kind


def _json(payload: object) -> bytes:
    return json.dumps(payload).encode("utf-8")
