"""The function's settings: named defaults, typed parsing, and a clear error naming the variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from function.config import Settings
from function.environment import SettingError
from function.model.locate import ModelChoice


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.model == ModelChoice("u2net-int8")
    assert settings.core_model is None
    assert settings.label == "u2net-int8"
    assert settings.arena, "u2net-int8 keeps ONNX Runtime's memory arena"
    assert settings.max_input_pixels == 50_000_000
    assert settings.max_pixels == 25_000_000
    assert settings.png_compress_level == 1
    assert settings.threads is None
    assert (settings.decode_memory_bytes, settings.decode_seconds, settings.request_seconds) == (700_000_000, 6.0, 20.0)


@pytest.mark.parametrize(
    ("name", "value", "field", "parsed"),
    [
        ("REMBG_MODEL", " u2netp ", "model", ModelChoice("u2netp")),
        ("REMBG_CORE_MODEL", "u2netp", "core_model", ModelChoice("u2netp")),
        ("REMBG_CORE_MODEL", "none", "core_model", None),
        ("ORT_MEMORY_ARENA", "off", "memory_arena", False),
        ("MAX_INPUT_PIXELS", " 5_000_000 ", "max_input_pixels", 5_000_000),
        ("MAX_PIXELS", "1000000", "max_pixels", 1_000_000),
        ("ORT_THREADS", "3", "threads", 3),
        ("PNG_COMPRESS_LEVEL", "0", "png_compress_level", 0),
        ("DECODE_MEMORY_BYTES", "900_000_000", "decode_memory_bytes", 900_000_000),
        ("DECODE_SECONDS", "2.5", "decode_seconds", 2.5),
        ("REQUEST_SECONDS", "45", "request_seconds", 45.0),
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
        ("DECODE_MEMORY_BYTES", "1000"),
        ("DECODE_SECONDS", "0"),
        ("DECODE_SECONDS", "six"),
        ("REQUEST_SECONDS", "nan"),
        ("REQUEST_SECONDS", "inf"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingError, match=name) as caught:
        Settings.from_env({name: value})
    assert isinstance(caught.value, ValueError), "the template turns a ValueError from start() into exit code 2"


def test_a_custom_model_takes_the_operator_s_file_pinned_by_its_md5() -> None:
    settings = Settings.from_env(
        {"REMBG_MODEL": "dis_custom", "REMBG_MODEL_PATH": "/models/isnet.onnx", "REMBG_MODEL_MD5": "AB" * 16}
    )
    assert settings.model == ModelChoice("dis_custom", Path("/models/isnet.onnx"), "ab" * 16)
    assert settings.model.label == "dis_custom:isnet.onnx"
    assert not settings.arena, "a 1024×1024 model runs without the arena"
    with_core = Settings.from_env({"REMBG_MODEL": "isnet-general-use", "REMBG_CORE_MODEL": "u2netp"})
    assert with_core.label == "isnet-general-use+u2netp"
    assert not with_core.arena, "one choice for the process: the core model's session follows ISNet's"
    assert Settings.from_env({"REMBG_MODEL": "isnet-general-use", "ORT_MEMORY_ARENA": "on"}).arena


def test_a_file_standing_in_for_a_model_s_own_leaves_the_model_the_record_s() -> None:
    """The quality tier with a local file for isnet-general-use-int8's own: X-Model, the arena and the session
    are the record's, as production's; dis_custom with the same file is the operator's model, labelled by it."""
    env = {"REMBG_MODEL": "isnet-general-use-int8", "REMBG_MODEL_PATH": "/models/isnet-int8.onnx"}
    stand_in = Settings.from_env({**env, "REMBG_CORE_MODEL": "u2netp"})
    production = Settings.from_env({"REMBG_MODEL": "isnet-general-use-int8", "REMBG_CORE_MODEL": "u2netp"})
    assert stand_in.label == production.label == "isnet-general-use-int8+u2netp"
    assert stand_in.arena and production.arena, "ISNet int8's arena, from its record"
    assert stand_in.model.session == production.model.session == "dis_custom"
    assert stand_in.model.stands_in and stand_in.model.custom and not production.model.stands_in
    own = Settings.from_env({"REMBG_MODEL": "dis_custom", "REMBG_MODEL_PATH": "/models/isnet-int8.onnx"})
    assert own.label == "dis_custom:isnet-int8.onnx" and not own.arena and not own.model.stands_in
    u2net = Settings.from_env({"REMBG_MODEL": "u2net", "REMBG_MODEL_PATH": "/models/u2net.onnx"}).model
    assert (u2net.label, u2net.session, u2net.pins) == ("u2net", "u2net_custom", ()), "a stand-in is not the pin's"
    assert Settings.from_env({"REMBG_MODEL": "u2net"}).model.pins == ("60024c5c889badc19c04ad937298a77b",)


def test_a_rembg_session_without_a_record_only_on_the_operator_s_opt_in() -> None:
    with pytest.raises(SettingError, match=r"REMBG_MODEL='birefnet-massive' .*REMBG_UNRECORDED_MODEL=on") as caught:
        Settings.from_env({"REMBG_MODEL": "birefnet-massive"})
    assert "2 GB pod" in str(caught.value) and "birefnet" not in str(caught.value).partition("use one of")[2]
    assert Settings.from_env({"REMBG_MODEL": "birefnet-massive", "REMBG_UNRECORDED_MODEL": "on"}).label == (
        "birefnet-massive"
    )
    with pytest.raises(SettingError, match="REMBG_CORE_MODEL='bria-rmbg'"):
        Settings.from_env({"REMBG_CORE_MODEL": "bria-rmbg"})
    with pytest.raises(SettingError, match="REMBG_UNRECORDED_MODEL"):
        Settings.from_env({"REMBG_UNRECORDED_MODEL": "sometimes"})
    with pytest.raises(SettingError, match=r"with REMBG_UNRECORDED_MODEL=on, one of .*bria-rmbg"):
        Settings.from_env({"REMBG_MODEL": "u2netq"})


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"REMBG_MODEL": "dis_custom"}, "REMBG_MODEL_PATH must name it"),
        ({"REMBG_MODEL": "silueta", "REMBG_MODEL_PATH": "/models/x.onnx"}, "REMBG_MODEL_PATH='/models/x.onnx' is for"),
        ({"REMBG_MODEL_MD5": "not-an-md5"}, "REMBG_MODEL_MD5"),
        ({"REMBG_CORE_MODEL": "u2net_custom"}, "REMBG_CORE_MODEL"),
        ({"REMBG_CORE_MODEL": "u2netq"}, "REMBG_CORE_MODEL='u2netq' is not a model this function serves"),
        ({"REMBG_MODEL": "sam"}, "REMBG_MODEL='sam' is not a model this function serves"),
        ({"ORT_MEMORY_ARENA": "sometimes"}, "ORT_MEMORY_ARENA"),
    ],
)
def test_model_settings_that_do_not_go_together(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingError, match=re.escape(named)):
        Settings.from_env(env)
