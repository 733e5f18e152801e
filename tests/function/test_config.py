"""The function's settings: named defaults, typed parsing, and a clear error naming the variable."""

from __future__ import annotations

import pytest

from function.config import ConfigError, Settings


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.model == "u2net"
    assert settings.max_input_pixels == 50_000_000
    assert settings.max_pixels == 25_000_000
    assert settings.png_compress_level == 1
    assert settings.threads is None


@pytest.mark.parametrize(
    ("name", "value", "field", "parsed"),
    [
        ("REMBG_MODEL", " u2netp ", "model", "u2netp"),
        ("MAX_INPUT_PIXELS", " 5_000_000 ", "max_input_pixels", 5_000_000),
        ("MAX_PIXELS", "1000000", "max_pixels", 1_000_000),
        ("ORT_THREADS", "3", "threads", 3),
        ("PNG_COMPRESS_LEVEL", "0", "png_compress_level", 0),
    ],
)
def test_values_are_parsed(name: str, value: str, field: str, parsed: object) -> None:
    assert getattr(Settings.from_env({name: value}), field) == parsed


def test_empty_values_mean_the_default() -> None:
    assert Settings.from_env({"REMBG_MODEL": "", "ORT_THREADS": " ", "PNG_COMPRESS_LEVEL": ""}) == Settings()


def test_server_settings_are_not_the_function_s() -> None:
    assert Settings.from_env({"PORT": "http", "MAX_INFLIGHT": "0"}) == Settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_INPUT_PIXELS", "0"),
        ("MAX_INPUT_PIXELS", "lots"),
        ("ORT_THREADS", "0"),
        ("ORT_THREADS", "1.5"),
        ("PNG_COMPRESS_LEVEL", "4"),
        ("PNG_COMPRESS_LEVEL", "-1"),
        ("MAX_PIXELS", "10"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name) as caught:
        Settings.from_env({name: value})
    assert isinstance(caught.value, ValueError), "the template turns a ValueError from start() into exit code 2"
