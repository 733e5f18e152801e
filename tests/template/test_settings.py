"""The server's settings: named defaults, typed parsing, and a clear error naming the variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from function.config import Settings
from settings import DEFAULT_TOKEN_FILE, ServerSettings, SettingError


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


@pytest.mark.parametrize("value", ["", "   ", "\t"])
def test_a_token_file_set_but_empty_is_refused_not_the_default(value: str) -> None:
    message = f"TOKEN_FILE={value!r} is set but empty; give it a value, or unset TOKEN_FILE"
    with pytest.raises(SettingError, match=f"^{re.escape(message)}$"):
        ServerSettings.from_env({"TOKEN_FILE": value})
    assert ServerSettings.from_env({}).token_file == Path(DEFAULT_TOKEN_FILE), "unset: the platform's place"


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


@pytest.mark.parametrize(
    ("read", "env", "message"),
    [
        (ServerSettings.from_env, {"PORT": "0"}, "PORT='0': must be from 1 to 65535"),
        (Settings.from_env, {"ORT_THREADS": "0"}, "ORT_THREADS='0': must be from 1 to 256"),
        (ServerSettings.from_env, {"MAX_INFLIGHT": "1.5"}, "MAX_INFLIGHT='1.5': expected a whole number"),
        (Settings.from_env, {"ORT_THREADS": "1.5"}, "ORT_THREADS='1.5': expected a whole number"),
        (ServerSettings.from_env, {"DRAIN_SECONDS": "-1"}, "DRAIN_SECONDS='-1': must be at least 0 seconds"),
        (Settings.from_env, {"DECODE_SECONDS": "0"}, "DECODE_SECONDS='0': must be from 0.1 to 600 seconds"),
        (ServerSettings.from_env, {"SEND_TIMEOUT_SECONDS": "inf"}, "SEND_TIMEOUT_SECONDS='inf': expected a number"),
        (Settings.from_env, {"REQUEST_SECONDS": "inf"}, "REQUEST_SECONDS='inf': expected a number"),
        (ServerSettings.from_env, {"MAX_CONNECTIONS": "20_000"}, "MAX_CONNECTIONS='20_000': must be from 8 to 10000"),
        (Settings.from_env, {"MAX_PIXELS": "1_0"}, "MAX_PIXELS='1_0': must be from 100 to 1000000000"),
    ],
)
def test_the_server_and_the_function_read_by_one_rule(read, env: dict[str, str], message: str) -> None:
    """Both sides' variables take the same forms and say what is wrong in the same words (function/environment.py):
    the server's once said "a finite value of at least 1 and at most 65535", the function's "from 1 to 256"."""
    with pytest.raises(SettingError, match=f"^{re.escape(message)}"):
        read(env)
