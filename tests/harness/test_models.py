"""Models by name, as tests and benchmarks name them: the function's settings each one needs."""

from __future__ import annotations

from harness import isnet, models


def test_a_rembg_name_is_its_own_setting() -> None:
    assert models.settings("u2netp") == {"REMBG_MODEL": "u2netp"}


def test_isnet_is_the_fetched_file_standing_in_for_isnet_general_use_pinned_and_a_plus_names_the_core() -> None:
    assert models.settings(models.QUALITY_FP32) == {
        "REMBG_MODEL": "isnet-general-use",
        "REMBG_MODEL_PATH": str(isnet.path()),
        "REMBG_MODEL_MD5": isnet.MD5,
        "REMBG_CORE_MODEL": "u2netp",
    }
    assert models.QUALITY_FP32 == "isnet+u2netp"


def test_the_quality_tier_is_production_s_record_with_isnet_s_int8_model_standing_in() -> None:
    """isnet-general-use-int8, as the stack files deploy it, with the local file for its own: nothing else set
    (its arena is the record's, as in production)."""
    assert models.settings(models.QUALITY) == {
        "REMBG_MODEL": "isnet-general-use-int8",
        "REMBG_MODEL_PATH": str(isnet.int8_path()),
        "REMBG_CORE_MODEL": "u2netp",
    }
    assert models.QUALITY == "isnet-int8+u2netp"


def test_the_fast_tier_is_u2net_int8_by_its_name_and_parity_is_rembg_s_u2net() -> None:
    assert models.settings(models.FAST) == {"REMBG_MODEL": "u2net-int8"}
    assert models.settings(models.PARITY) == {"REMBG_MODEL": "u2net"}


def test_a_name_s_settings_replace_the_caller_s() -> None:
    inherited = {"REMBG_MODEL_PATH": "/elsewhere.onnx", "REMBG_CORE_MODEL": "u2net", "LOG_LEVEL": "DEBUG"}
    assert models.environment(inherited, "u2net") == {"REMBG_MODEL": "u2net", "LOG_LEVEL": "DEBUG"}
