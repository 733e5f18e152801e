"""Configuration: named defaults, typed parsing, and a clear error naming the variable."""

from __future__ import annotations

import pytest

from function.config import ConfigError, Settings, parse_duration


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.model == "u2net"
    assert settings.port == 8080
    assert settings.host == "0.0.0.0"
    assert settings.max_inflight == 1
    assert settings.max_body_bytes == 30_000_000
    assert settings.max_input_pixels == 50_000_000
    assert settings.max_pixels == 25_000_000
    assert settings.drain_seconds == 30.0
    assert settings.threads is None
    assert settings.max_connections == 100
    assert settings.max_buffered_bytes == 4 * settings.max_body_bytes


def test_the_body_buffer_follows_the_body_limit_and_must_hold_one_body() -> None:
    assert Settings.from_env({"MAX_BODY_BYTES": "2000000"}).max_buffered_bytes == 8_000_000
    assert Settings.from_env({"MAX_BUFFERED_BYTES": "50000000"}).max_buffered_bytes == 50_000_000
    with pytest.raises(ConfigError, match="MAX_BUFFERED_BYTES"):
        Settings.from_env({"MAX_BODY_BYTES": "2000000", "MAX_BUFFERED_BYTES": "1999999"})
    with pytest.raises(ConfigError, match="MAX_CONNECTIONS"):
        Settings.from_env({"MAX_CONNECTIONS": "2"})


def test_values_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "REMBG_MODEL": "u2netp",
            "PORT": "9000",
            "MAX_INFLIGHT": "2",
            "MAX_BODY_BYTES": "1_000_000",
            "MAX_INPUT_PIXELS": " 5000000 ",
            "DRAIN_SECONDS": "2.5",
            "ORT_THREADS": "3",
            "PNG_COMPRESS_LEVEL": "2",
            "MAX_PIXELS": "1000000",
            "LOG_LEVEL": "debug",
        }
    )
    assert settings.model == "u2netp"
    assert (settings.port, settings.max_inflight, settings.threads) == (9000, 2, 3)
    assert settings.max_body_bytes == 1_000_000
    assert settings.max_input_pixels == 5_000_000
    assert settings.drain_seconds == 2.5
    assert settings.png_compress_level == 2
    assert settings.max_pixels == 1_000_000
    assert settings.log_level == "DEBUG"


def test_empty_values_mean_the_default() -> None:
    assert Settings.from_env({"PORT": "", "ORT_THREADS": " "}) == Settings.from_env({})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("PORT", "0"),
        ("PORT", "65536"),
        ("MAX_INFLIGHT", "0"),
        ("MAX_INFLIGHT", "1.5"),
        ("MAX_BODY_BYTES", "-5"),
        ("MAX_INPUT_PIXELS", "0"),
        ("DRAIN_SECONDS", "soon"),
        ("DRAIN_SECONDS", "nan"),
        ("DRAIN_SECONDS", "-1"),
        ("ORT_THREADS", "0"),
        ("PNG_COMPRESS_LEVEL", "4"),
        ("MAX_PIXELS", "10"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("1m5s", 65.0), ("500ms", 0.5), ("1h", 3600.0), ("12", 12.0), ("2.5s", 2.5)]
)
def test_openfaas_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_openfaas_timeouts_set_the_drain_and_read_timeouts() -> None:
    settings = Settings.from_env({"write_timeout": "45s", "read_timeout": "1m"})
    assert settings.drain_seconds == 45.0
    assert settings.read_timeout_seconds == 60.0
    assert Settings.from_env({"write_timeout": "45s", "DRAIN_SECONDS": "5"}).drain_seconds == 5.0


@pytest.mark.parametrize("value", ["soon", "30 s", "5x", "-3s", "0s", "nan", "inf"])
def test_bad_durations_name_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="write_timeout"):
        Settings.from_env({"write_timeout": value})
