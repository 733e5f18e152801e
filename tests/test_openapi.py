"""openapi.yaml against the code: valid OpenAPI 3.1, and neither ahead of the parsers nor behind them.

Every field a route reads is documented and every documented field is read; every documented
value is accepted and the values just outside are refused, by the parsers themselves; every
error code the function and the server can answer is in the document's enum; the headers of a
real success are exactly the documented ones.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import OpenAPIV31SpecValidator
from werkzeug.exceptions import MethodNotAllowed, NotFound

import serve
from errors import busy, unauthorized, unavailable
from function.errors import ApiError, InvalidOption, UnsupportedOption
from function.request import options, routes
from tests.support import images
from tests.support.openapi import (
    body_schema,
    document,
    properties,
    query_parameters,
    resolve,
    response_headers,
    schema,
)

PIXIAN = routes.ROUTES[routes.PIXIAN_PATH]
REMOVEBG = routes.ROUTES[routes.REMOVEBG_PATH]
PICTURE = images.jpeg(images.photo("chelsea").resize((45, 30)))
COMPATIBLE = (PIXIAN, REMOVEBG)


def _image_fields(route: routes.Route) -> set[str]:
    """Where the route takes the picture: file parts, and a base64 field on the compatible routes."""
    return {*route.file_fields, *route.base64_fields}


def test_the_document_is_valid_openapi_3_1() -> None:
    errors = list(OpenAPIV31SpecValidator(document()).iter_errors())
    assert errors == []


def test_the_validator_would_refuse_a_broken_document() -> None:
    broken = json.loads(json.dumps(document()))
    broken["components"]["parameters"]["format"]["in"] = "body"  # OpenAPI 2's place, gone in 3
    assert list(OpenAPIV31SpecValidator(broken).iter_errors())


def test_our_route_documents_exactly_the_fields_it_reads() -> None:
    read = {field.name for field in routes.OWN_FIELDS}
    for path in routes.OWN_PATHS:
        assert set(query_parameters(path)) == read, path
        form = properties(body_schema(path, "multipart/form-data"))
        assert set(form) == read | _image_fields(routes.OWN), path


def test_pixian_s_route_documents_exactly_the_fields_it_reads() -> None:
    read = {field.name for field in routes.PIXIAN_FIELDS} | _image_fields(PIXIAN) | set(PIXIAN.refused)
    assert set(properties(body_schema(routes.PIXIAN_PATH, "multipart/form-data"))) == read
    urlencoded = properties(body_schema(routes.PIXIAN_PATH, "application/x-www-form-urlencoded"))
    assert set(urlencoded) == read - set(PIXIAN.file_fields)  # no file parts there


def test_remove_bg_s_route_documents_exactly_the_fields_it_reads() -> None:
    read = {field.name for field in routes.REMOVEBG_FIELDS} | set(REMOVEBG.refused)
    multipart = properties(body_schema(routes.REMOVEBG_PATH, "multipart/form-data"))
    assert set(multipart) == read | _image_fields(REMOVEBG)
    for media_type in ("application/x-www-form-urlencoded", "application/json"):  # no file parts there
        assert set(properties(body_schema(routes.REMOVEBG_PATH, media_type))) == read | set(REMOVEBG.base64_fields)


@pytest.mark.parametrize("route", COMPATIBLE, ids=lambda route: type(route).__name__)
def test_the_fields_documented_as_refused_are_the_ones_the_route_refuses(route: routes.Route) -> None:
    """`false` (never to be sent) or `maxLength: 0` (only empty, which remove.bg's route ignores)."""
    path = routes.PIXIAN_PATH if route is PIXIAN else routes.REMOVEBG_PATH
    fields = properties(body_schema(path, "multipart/form-data"))
    documented = {name for name, field in fields.items() if field is False or field.get("maxLength") == 0}
    assert documented == set(route.refused)


def test_the_format_enums_are_the_parsers_choices() -> None:
    assert schema("OwnFormat")["enum"] == list(routes.OWN_FORMATS)
    pixian = properties(body_schema(routes.PIXIAN_PATH, "multipart/form-data"))
    assert pixian["output.format"]["enum"] == list(routes.PIXIAN_FORMATS)
    removebg = properties(body_schema(routes.REMOVEBG_PATH, "multipart/form-data"))
    assert removebg["format"]["enum"] == list(routes.REMOVEBG_FORMATS)
    assert schema("Boolean")["enum"] == [*options.TRUE, *options.FALSE]
    assert schema("NamedSize")["enum"] == list(options.NAMED_SIZES)
    assert schema("VerticalAlignment")["enum"] == list(routes.ALIGNMENTS)


def _option_fields() -> list[tuple[str, routes.Route, str, dict[str, Any]]]:
    own = properties(schema("OwnOptions"))
    pixian = properties(body_schema(routes.PIXIAN_PATH, "multipart/form-data"))
    removebg = properties(schema("RemoveBgOptions"))
    found = [("own", routes.OWN, name, value) for name, value in own.items()]
    found += [("pixian", PIXIAN, name, value) for name, value in pixian.items()]
    found += [("removebg", REMOVEBG, name, value) for name, value in removebg.items()]
    return [entry for entry in found if entry[2] not in _image_fields(entry[1]) | set(entry[1].refused)]


def _flat(field: dict[str, Any]) -> dict[str, Any]:
    """A property's own keywords with those of its allOf parts (a documented reference plus a description)."""
    merged = dict(field)
    for part in field.get("allOf", []):
        merged = {**resolve(part), **merged}
    return merged


@pytest.mark.parametrize(("route_name", "route", "name", "field"), _option_fields(), ids=lambda v: str(v)[:40])
def test_documented_values_parse_and_the_ones_just_outside_are_refused(route_name, route, name, field) -> None:
    field = _flat(field)
    if "enum" in field:
        accepted = field["enum"]
        refused = ["nonsense"]
    elif field.get("type") == "integer":
        accepted = [str(field["minimum"]), str(field["maximum"])]
        refused = [str(field["minimum"] - 1), str(field["maximum"] + 1), "lots"]
    else:
        accepted = field["examples"]
        refused = ["-", "1 2 3 4 5 6"]
    for value in accepted:
        route.options({name: value})
    for value in refused:
        with pytest.raises(InvalidOption) as refusal:
            route.options({name: value})
        assert refusal.value.field == name


@pytest.mark.parametrize(("route", "name"), [(route, name) for route in COMPATIBLE for name in route.refused])
def test_the_documented_refused_fields_are_refused(route: routes.Route, name: str) -> None:
    body = urlencode({route.base64_fields[0]: base64.b64encode(PICTURE).decode(), name: "x"}).encode()
    with pytest.raises(UnsupportedOption, match=f"^{re.escape(name)}: "):
        route.read(body, "application/x-www-form-urlencoded", {})


@pytest.mark.parametrize(
    ("route", "name"),
    [(route, name) for route in (routes.OWN, *COMPATIBLE) for name in route.file_fields],
)
def test_each_documented_file_part_carries_the_picture(route: routes.Route, name: str) -> None:
    body, content_type = _multipart(name, PICTURE)
    assert route.read(body, content_type, {}).image == PICTURE


@pytest.mark.parametrize(("route", "name"), [(route, name) for route in COMPATIBLE for name in route.base64_fields])
def test_each_documented_base64_field_carries_the_picture(route: routes.Route, name: str) -> None:
    body = urlencode({name: base64.b64encode(PICTURE).decode()}).encode()
    assert route.read(body, "application/x-www-form-urlencoded", {}).image == PICTURE


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    prepared = requests.Request("POST", "http://x/", files={name: ("p.jpg", data, "image/jpeg")}).prepare()
    return prepared.body, prepared.headers["Content-Type"]


def test_every_error_code_is_in_the_document() -> None:
    function_codes = {ApiError.code} | {kind.code for kind in ApiError.__subclasses__()}
    server_codes = {refusal.code for refusal in (unauthorized(), busy(1), unavailable("x"))}
    routing = {kind().name.lower().replace(" ", "_") for kind in (NotFound, MethodNotAllowed)}  # as index.py names them
    server_codes |= set(serve.WAITRESS_CODES.values()) | {"internal"} | routing
    assert set(schema("ErrorCode")["enum"]) == function_codes | server_codes
    removebg = resolve(schema("RemoveBgError")["properties"]["errors"]["items"])["properties"]["code"]["enum"]
    mapped = {routes.REMOVEBG_CODES.get(code, code) for code in function_codes | server_codes}
    assert set(removebg) == mapped | {"invalid_bg_color"}


@pytest.mark.parametrize(
    ("path", "response", "fields"),
    [
        (routes.OWN_PATHS[-1], "Cutout", {}),
        (routes.PIXIAN_PATH, "CompatibleCutout", {"note": "ignored"}),  # so that X-Ignored-Fields is there too
        (routes.REMOVEBG_PATH, "CompatibleCutout", {"note": "ignored"}),
    ],
)
def test_a_success_carries_exactly_the_documented_headers(server, path: str, response: str, fields: dict) -> None:
    field = routes.route_for(path).file_fields[0]
    files = {field: ("p.jpg", PICTURE, "image/jpeg")}
    answer = requests.post(server.url + path, files=files, data=fields, timeout=60)
    assert answer.status_code == 200, answer.text
    ours = {name for name in answer.headers if name.lower().startswith("x-")}
    assert {name.lower() for name in ours} == {name.lower() for name in response_headers(response)}


# Each pattern-typed field at its edges, both ways: what the pattern takes, the parser takes, and no more.
PATTERN_EDGES = {
    "Margin": (
        ["0", "100%", "100.000%", "99.99999%", "10000", "10000px", "10000.0PX", "0.5pX", "007%", " ,5%, ", "1 2 3 4"],
        ["101%", "100.00000000000000000001%", "10001px", "10000.5", "5 %", "10 px", "1 2 3 4 5", "", " , ", "5%\t",
         "5%\n", "٣%", "1_0", "-5", "+5", "5e2", ".5%", "5.%", "5px%", "5em"],
    ),
    "TargetSize": (
        ["1 1", "65535x65535", "00065535,1", " 800 X 600 ", "1x,2", "640  480"],
        ["0x1", "1 0", "65536 1", "1x65536", "1", "1 2 3", "x1 2", "1 2x", "1\t2", "١ 2", "1_0 2", "-1 2", "1 2\n",
         "1.5 2", "", " x ", "9" * 5000 + " 1"],
    ),
}  # fmt: skip


def _pattern_fields() -> list[tuple[str, routes.Route, str, str]]:
    found = []
    for route_name, route, name, field in _option_fields():
        for kind in PATTERN_EDGES:
            if _flat(field).get("pattern") == schema(kind)["pattern"]:
                found.append((route_name, route, name, kind))
    return found


def _accepted(route: routes.Route, name: str, value: str) -> bool:
    try:
        route.options({name: value})
    except InvalidOption:
        return False
    return True


def _documented(kind: str, value: str) -> bool:
    """The pattern as JSON Schema means it (ECMA-262, whose `$` is the very end; Python's also takes a final
    newline before it, hence fullmatch on what lies between the anchors)."""
    pattern = schema(kind)["pattern"]
    assert pattern.startswith("^") and pattern.endswith("$")
    return re.fullmatch(pattern[1:-1], value) is not None


def test_every_pattern_typed_option_is_tried_at_its_edges() -> None:
    assert {kind for *_, kind in _pattern_fields()} == set(PATTERN_EDGES)
    assert len(_pattern_fields()) == 5  # margin, target_size on our route and Pixian's; remove.bg's crop_margin


@pytest.mark.parametrize(("route_name", "route", "name", "kind"), _pattern_fields(), ids=lambda v: str(v)[:40])
def test_a_pattern_takes_exactly_what_its_parser_takes(route_name, route, name: str, kind: str) -> None:
    accepted, refused = PATTERN_EDGES[kind]
    for value in accepted:
        assert _documented(kind, value) and _accepted(route, name, value), value
    for value in refused:
        assert not _documented(kind, value) and not _accepted(route, name, value), value

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.one_of(
            st.from_regex(schema(kind)["pattern"][1:-1], fullmatch=True),
            st.text(alphabet="0123456789.,xXpP% \t\n_-+٣", max_size=24),
        )
    )
    def both_ways(value: str) -> None:
        assert _documented(kind, value) == _accepted(route, name, value), value

    both_ways()
