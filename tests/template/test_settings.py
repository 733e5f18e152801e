"""The server's settings: named defaults, typed parsing, and a clear error naming the variable."""

from __future__ import annotations

import pytest

from settings import ServerSettings, SettingError, parse_duration


def test_defaults() -> None:
    settings = ServerSettings.from_env({})
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert settings.max_inflight == 1
    assert settings.max_body_bytes == 30_000_000
    assert settings.max_buffered_bytes == 4 * settings.max_body_bytes
    assert settings.max_connections == 100
    assert settings.read_timeout_seconds == 30.0
    assert settings.drain_seconds == 30.0
    assert settings.log_level == "INFO"
    assert (settings.min_upload_bytes_per_second, settings.upload_grace_seconds) == (65536, 5.0)
    assert (settings.send_timeout_seconds, settings.max_unsent_bytes) == (30.0, 128_000_000)


def test_values_are_parsed() -> None:
    settings = ServerSettings.from_env(
        {
            "HOST": "127.0.0.1",
            "PORT": "9000",
            "MAX_INFLIGHT": "2",
            "MAX_BODY_BYTES": "1_000_000",
            "MAX_CONNECTIONS": " 50 ",
            "DRAIN_SECONDS": "2.5",
            "LOG_LEVEL": "debug",
            "MIN_UPLOAD_BYTES_PER_SECOND": "0",
            "UPLOAD_GRACE_SECONDS": "1.5",
            "SEND_TIMEOUT_SECONDS": "4",
            "MAX_UNSENT_BYTES": "50_000_000",
        }
    )
    assert (settings.min_upload_bytes_per_second, settings.upload_grace_seconds) == (0, 1.5)
    assert (settings.send_timeout_seconds, settings.max_unsent_bytes) == (4.0, 50_000_000)
    assert (settings.host, settings.port, settings.max_inflight) == ("127.0.0.1", 9000, 2)
    assert settings.max_body_bytes == 1_000_000
    assert settings.max_connections == 50
    assert settings.drain_seconds == 2.5
    assert settings.log_level == "DEBUG"


def test_empty_values_mean_the_default() -> None:
    assert ServerSettings.from_env({"PORT": "", "HOST": " ", "LOG_LEVEL": ""}) == ServerSettings.from_env({})


def test_the_function_s_settings_are_not_the_server_s() -> None:
    assert ServerSettings.from_env({"REMBG_MODEL": "nope", "MAX_PIXELS": "0"}) == ServerSettings()


def test_the_body_buffer_follows_the_body_limit_and_must_hold_one_body() -> None:
    assert ServerSettings.from_env({"MAX_BODY_BYTES": "2000000"}).max_buffered_bytes == 8_000_000
    assert ServerSettings.from_env({"MAX_BUFFERED_BYTES": "50000000"}).max_buffered_bytes == 50_000_000
    with pytest.raises(SettingError, match="MAX_BUFFERED_BYTES"):
        ServerSettings.from_env({"MAX_BODY_BYTES": "2000000", "MAX_BUFFERED_BYTES": "1999999"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("PORT", "0"),
        ("PORT", "65536"),
        ("MAX_INFLIGHT", "0"),
        ("MAX_INFLIGHT", "1.5"),
        ("MAX_BODY_BYTES", "-5"),
        ("MAX_CONNECTIONS", "2"),
        ("DRAIN_SECONDS", "soon"),
        ("DRAIN_SECONDS", "nan"),
        ("DRAIN_SECONDS", "-1"),
        ("LOG_LEVEL", "LOUD"),
        ("MIN_UPLOAD_BYTES_PER_SECOND", "-1"),
        ("UPLOAD_GRACE_SECONDS", "-1"),
        ("SEND_TIMEOUT_SECONDS", "0"),
        ("MAX_UNSENT_BYTES", "10"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingError, match=name):
        ServerSettings.from_env({name: value})


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("1m5s", 65.0), ("500ms", 0.5), ("1h", 3600.0), ("12", 12.0), ("2.5s", 2.5)]
)
def test_openfaas_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_openfaas_timeouts_set_the_drain_and_read_timeouts() -> None:
    settings = ServerSettings.from_env({"write_timeout": "45s", "read_timeout": "1m"})
    assert settings.drain_seconds == 45.0
    assert settings.read_timeout_seconds == 60.0
    assert ServerSettings.from_env({"write_timeout": "45s", "DRAIN_SECONDS": "5"}).drain_seconds == 5.0


@pytest.mark.parametrize("value", ["soon", "30 s", "5x", "-3s", "0s", "nan", "inf"])
def test_bad_durations_name_the_variable(value: str) -> None:
    with pytest.raises(SettingError, match="write_timeout"):
        ServerSettings.from_env({"write_timeout": value})


def test_the_metrics_port_is_never_the_function_s_port() -> None:
    assert ServerSettings.from_env({}).metrics_port == 8081
    assert ServerSettings.from_env({"PORT": "9000", "METRICS_PORT": "9001"}).metrics_port == 9001
    with pytest.raises(SettingError, match="METRICS_PORT=9000: must differ from PORT"):
        ServerSettings.from_env({"PORT": "9000", "METRICS_PORT": "9000"})
    with pytest.raises(SettingError, match="METRICS_PORT=8081"):
        ServerSettings.from_env({"PORT": "8081"})
