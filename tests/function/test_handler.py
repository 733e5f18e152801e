"""The function object as the template drives it: start, handle with its facts and metrics, stop."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from werkzeug.datastructures import Headers

from function import handler
from function.environment import SettingError
from function.model import optimized
from function.model.digest import md5_of
from function.model.locate import ModelChoice, locate
from tests.support import images


@dataclass
class Event:
    body: bytes
    headers: Headers = field(default_factory=Headers)
    method: str = "POST"
    path: str = "/"
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Context:
    call_id: str = "test-handler"
    fields: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def function():
    started = handler.new()
    assert not started.ready()
    started.start({"REMBG_MODEL": "u2netp"})
    assert started.ready()
    yield started
    started.stop()
    assert not started.ready()


def _sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_a_cutout_with_its_facts_and_metrics(function) -> None:
    before = _sample("remove_bg_stage_seconds_count", {"stage": "mask"})
    pixels_before = _sample("remove_bg_input_megapixels_count")
    context = Context()
    result = function.handle(Event(images.jpeg()), context)
    assert result["statusCode"] == 200
    assert result["headers"]["Content-Type"] == "image/png"
    assert context.fields["model"] == "u2netp"
    assert context.fields["input"] == "{}x{}".format(*images.photo().size)
    assert {"decode_ms", "mask_ms", "cutout_ms", "megapixels"} <= set(context.fields)
    assert _sample("remove_bg_stage_seconds_count", {"stage": "mask"}) == before + 1
    assert _sample("remove_bg_input_megapixels_count") == pixels_before + 1
    assert _sample("remove_bg_model_load_seconds") > 0


def test_the_model_info_names_the_file_s_md5_and_the_file_that_runs(function) -> None:
    """From ready on: the md5 is read before loading, since the optimised copy is found by it."""
    path = locate(ModelChoice("u2netp"))
    copy = optimized.usable(path, Path(os.environ["U2NET_HOME"]), md5_of(path))
    assert copy is not None  # make test's fetch made it
    facts = {"model": "u2netp", "md5": md5_of(path), "file": str(copy)}
    assert _sample("remove_bg_model_info", facts) == 1.0


def test_a_client_mistake_is_the_function_s_own_json_4xx(function) -> None:
    context = Context()
    result = function.handle(Event(b"not a picture"), context)
    assert result["statusCode"] == 415
    assert result["headers"]["Content-Type"] == "application/json"
    assert b'"code": "unsupported_image"' in result["body"]
    assert context.fields["detail"]


def test_a_bad_setting_is_a_value_error_naming_it() -> None:
    with pytest.raises(SettingError, match="MAX_PIXELS") as caught:
        handler.new().start({"MAX_PIXELS": "many"})
    assert isinstance(caught.value, ValueError)


def test_the_chosen_options_and_an_error_s_code_reach_the_log_fields(function) -> None:
    context = Context()
    query = {"format": "webp", "margin": "5%", "bg_color": "red"}
    result = function.handle(Event(images.jpeg(), query=query), context)
    assert result["headers"]["Content-Type"] == "image/webp"
    assert context.fields["options"] == "format=webp bg_color=#ff0000ff margin=5% 5% 5% 5%"
    context = Context()
    result = function.handle(Event(images.jpeg(), path="/v1.0/removebg", query={"bg_color": "nope"}), context)
    assert b'"invalid_bg_color"' in result["body"]
    assert context.fields["code"] == "invalid_option", "counted by our code, whatever the route's shape"


def test_the_template_s_own_errors_take_the_route_s_shape(function) -> None:
    assert b'"code": 429' in function.error_body("/api/v2/remove-background", 429, "busy", "busy")
    assert b'"rate_limit_exceeded"' in function.error_body("/v1.0/removebg", 429, "busy", "busy")
    assert b'"code": "busy"' in function.error_body("/anything", 429, "busy", "busy")


@pytest.mark.parametrize(
    ("label", "header"),
    [
        ("u2net-int8", "u2net-int8"),
        ("u2net_custom:модель.onnx+u2netp", "u2net_custom:%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C.onnx+u2netp"),
        ("dis_custom:a b%\r\nX-Evil: 1.onnx", "dis_custom:a%20b%25%0D%0AX-Evil:%201.onnx"),
    ],
)
def test_a_header_carries_any_label_as_visible_ascii(label: str, header: str) -> None:
    assert handler.header_value(label) == header
    assert header.encode("ascii").decode("latin-1") == header
