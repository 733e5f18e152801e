"""Start-up: rembg's sessions without its remove(), and ONNX Runtime's optimised copy of a model, made
where it runs and refused where it was not made for."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from function.config import Settings
from function.model import optimized
from function.model.digest import md5_of
from function.model.load import load, open_session
from function.model.locate import ModelChoice, locate
from function.model.records import RECORDS, record
from function.prepare import fetch, optimize
from harness import isnet
from harness.processes import PYTHONPATH, ROOT
from tests.support.images import jpeg, photo
from tests.support.server import MODEL_HOME

U2NETP = ModelChoice("u2netp")
U2NETP_MD5 = record("u2netp").md5
# rembg's session of each model that has a family, and the family's custom session
FAMILIES = {each.session: each.family for each in RECORDS if each.family is not None}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A models directory holding u2netp only, so its optimised copy is this test's own."""
    home = tmp_path / "models"
    (home / "models" / "u2netp").mkdir(parents=True)
    shutil.copy(MODEL_HOME / "models" / "u2netp" / "u2netp.onnx", home / "models" / "u2netp")
    monkeypatch.setenv("U2NET_HOME", str(home))
    return home


def _mask(choice: ModelChoice, photo: Image.Image) -> np.ndarray:
    return np.asarray(open_session(choice, 2, arena=True).predict(photo)[0])


def test_the_handler_starts_without_rembgs_remove_and_its_matting_libraries() -> None:
    """The server's process imports rembg's sessions only: pymatting, numba, scikit-image and scipy stay out."""
    code = (
        "import sys, function.handler as h\n"
        "f = h.new(); f.start({'REMBG_MODEL': 'u2netp'})\n"
        "print(sorted(m for m in ('pymatting', 'numba', 'llvmlite', 'skimage', 'scipy', 'jsonschema') "
        "if m in sys.modules))\n"
        "import rembg; print(rembg.remove.__module__)\n"  # the whole of rembg is still there for who asks
    )
    env = {**os.environ, "PYTHONPATH": PYTHONPATH, "U2NET_HOME": str(MODEL_HOME)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "rembg.bg"]


def _copy(home: Path) -> Path | None:
    """The optimised copy the u2netp file in `home` would load now."""
    path = locate(U2NETP)
    return optimized.usable(path, home, md5_of(path))


def _copies(home: Path) -> list[str]:
    return sorted(path.name for path in (home / "optimized" / "models" / "u2netp").glob("*"))


def test_fetch_makes_the_optimised_copy_named_for_this_cpu_and_this_file(home: Path) -> None:
    path = fetch.fetch(U2NETP)
    copy = _copy(home)
    assert copy is not None and copy.parent == home / "optimized" / "models" / "u2netp"
    here = optimized.Stamp.here(md5_of(path))
    assert here.features == optimized.cpu_features() != () and here.source_md5 == U2NETP_MD5
    assert copy.name == f"u2netp.{here.key}.onnx"
    assert _copies(home) == [copy.name], "nothing half-made left beside it"


def test_the_optimised_copy_gives_the_same_mask_as_the_original(home: Path) -> None:
    astronaut = photo()
    original = _mask(U2NETP, astronaut)
    fetch.fetch(U2NETP)
    loaded = load(U2NETP, 2, arena=True)
    options = loaded.session.inner_session.get_session_options()
    assert options.graph_optimization_level.name == "ORT_DISABLE_ALL", "the copy is loaded, not re-optimised"
    assert loaded.file == _copy(home) and loaded.md5 == U2NETP_MD5
    assert np.array_equal(np.asarray(loaded.session.predict(astronaut)[0]), original)


def _other_weights(path: Path) -> None:
    """Replace the model at `path` by one of the same size whose first convolution's weights are negated."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    weights = max(model.graph.initializer, key=lambda tensor: len(tensor.raw_data))
    weights.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(weights), weights.name))
    size = path.stat().st_size
    path.write_bytes(model.SerializeToString())
    assert path.stat().st_size == size


def test_a_same_size_model_with_other_weights_never_gets_the_old_copy(home: Path, caplog) -> None:
    """An operator's file (u2net_custom) replaced by another of the same size: the copy is found by the
    file's md5, so the new file loads as itself, and fetch (the image build) makes its own copy in place
    of the old one."""
    astronaut = photo()
    custom = ModelChoice("u2net_custom", home / "models" / "u2netp" / "u2netp.onnx")
    path = fetch.fetch(custom)
    old = optimized.usable(path, home, U2NETP_MD5)
    assert old is not None and load(custom, 2, arena=True).file == old
    _other_weights(path)
    assert optimized.usable(path, home, md5_of(path)) is None
    assert "no optimised copy" in caplog.text
    loaded = load(custom, 2, arena=True)
    assert loaded.file == path and loaded.md5 == md5_of(path) != U2NETP_MD5
    assert loaded.session.inner_session.get_session_options().graph_optimization_level.name == "ORT_ENABLE_ALL"
    own = np.asarray(loaded.session.predict(astronaut)[0])
    assert not np.array_equal(own, _mask_of(old, astronaut)), "the new weights give another mask than the old copy"
    fetch.fetch(custom)
    new = optimized.usable(path, home, md5_of(path))
    assert new is not None and new != old and not old.exists(), "the old original's copy is gone"
    reloaded = load(custom, 2, arena=True)
    assert reloaded.file == new
    assert np.array_equal(np.asarray(reloaded.session.predict(astronaut)[0]), own)


def _mask_of(copy: Path, picture: Image.Image) -> np.ndarray:
    from function.model.sessions import new_session

    return np.asarray(new_session(FAMILIES["u2netp"], ort_options(), str(copy)).predict(picture)[0])


@pytest.mark.parametrize(
    "change",
    [
        {"features": ("avx2",)},  # another CPU class: other kernels and layouts
        {"onnxruntime": "1.0.0"},
        {"source_md5": "0" * 32},  # made from another file
    ],
)
def test_a_copy_made_for_another_cpu_runtime_or_file_is_not_loaded(home: Path, change: dict, caplog) -> None:
    fetch.fetch(U2NETP)
    copy = _copy(home)
    elsewhere = dataclasses.replace(optimized.Stamp.here(U2NETP_MD5), **change)
    copy.rename(copy.with_name(f"u2netp.{elsewhere.key}.onnx"))
    assert _copy(home) is None
    options = open_session(U2NETP, 1, arena=True).inner_session.get_session_options()
    assert options.graph_optimization_level.name == "ORT_ENABLE_ALL", "the original, optimised as it loads"
    assert "no optimised copy" in caplog.text and "loading the original" in caplog.text


def test_a_cpu_whose_features_cannot_be_read_gets_no_copy(home: Path, tmp_path: Path, monkeypatch, caplog) -> None:
    """A /proc/cpuinfo without a flags line (some containers and emulators) says nothing of the kernels a copy
    was laid out for: neither made nor loaded."""
    fetch.fetch(U2NETP)
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: an emulated CPU\n")
    monkeypatch.setattr(optimized, "CPUINFO", cpuinfo)
    assert optimized.cpu_features() == ()
    assert _copy(home) is None
    assert optimize.make(locate(U2NETP), home, U2NETP_MD5) is None
    options = open_session(U2NETP, 1, arena=True).inner_session.get_session_options()
    assert options.graph_optimization_level.name == "ORT_ENABLE_ALL"
    assert "features cannot be read" in caplog.text


def test_two_makers_at_once_leave_one_loadable_copy(home: Path) -> None:
    path = locate(U2NETP)
    with ThreadPoolExecutor(2) as pool:
        made = list(pool.map(lambda _: optimize.make(path, home, U2NETP_MD5), range(2)))
    assert made[0] == made[1] == _copy(home)
    assert len(_copies(home)) == 1


def test_a_damaged_copy_means_the_original(home: Path, caplog) -> None:
    fetch.fetch(U2NETP)
    _copy(home).write_bytes(b"<html>not a model</html>")
    options = open_session(U2NETP, 1, arena=True).inner_session.get_session_options()
    assert options.graph_optimization_level.name == "ORT_ENABLE_ALL"
    assert "cannot be loaded" in caplog.text and "loading the original" in caplog.text


def test_the_setting_turns_the_copy_off(home: Path) -> None:
    fetch.fetch(U2NETP)
    assert Settings.from_env({"ORT_OPTIMIZED_COPY": "off"}).optimized_copy is False
    assert Settings.from_env({}).optimized_copy is True
    options = open_session(U2NETP, 1, arena=True, optimized_copy=False).inner_session.get_session_options()
    assert options.graph_optimization_level.name == "ORT_ENABLE_ALL"


def test_a_family_s_custom_session_gives_its_own_session_s_mask(home: Path) -> None:
    """A copy is loaded through its family's custom session: the same file must give the same mask there."""
    from function.model.sessions import new_session

    path, astronaut = locate(U2NETP), photo()
    own = new_session("u2netp", ort_options(), None).predict(astronaut)[0]
    custom = new_session(FAMILIES["u2netp"], ort_options(), str(path)).predict(astronaut)[0]
    assert np.array_equal(np.asarray(own), np.asarray(custom))


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_each_family_feeds_its_model_as_its_custom_session_does(name: str) -> None:
    """The preprocessing (mean, std, input size) of every family member is its custom session's."""
    import inspect

    from function.model.sessions import registry

    sessions = registry()

    def normalize_call(key: str) -> str:
        source = "".join(inspect.getsource(sessions[key].predict).split())
        start = source.index("self.normalize(")
        return source[start : source.index("),", source.index("(", source.index(")", start) + 1)) + 1]

    assert normalize_call(name) == normalize_call(FAMILIES[name])


def ort_options():
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return options


def _one_byte_changed(source: Path, target: Path) -> Path:
    """A copy of `source` with one byte of its weights changed: a file that still parses, as a disk or a copy
    that went wrong leaves it."""
    data = bytearray(source.read_bytes())
    data[len(data) // 2] ^= 0xFF  # the middle of the file: inside the weights, which are most of it
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(bytes(data))
    return target


def test_a_model_s_own_file_is_held_to_its_record_s_md5_at_start(tmp_path: Path, start_server) -> None:
    """A u2netp whose file parses but is not rembg's: refused at start (exit 1, the template's for a model that
    cannot be loaded), not served. The same bytes given as a stand-in (REMBG_MODEL_PATH) are not the record's
    file, and load."""
    import onnxruntime as ort

    home = tmp_path / "models"
    damaged = _one_byte_changed(
        MODEL_HOME / "models" / "u2netp" / "u2netp.onnx", home / "models" / "u2netp" / "u2netp.onnx"
    )
    ort.InferenceSession(str(damaged), providers=["CPUExecutionProvider"])  # it parses: only its md5 tells
    server = start_server(REMBG_MODEL="u2netp", U2NET_HOME=str(home))
    assert server.wait_exit(60) == 1, server.log()
    assert f"{damaged}: md5 {md5_of(damaged)} is not the expected {U2NETP_MD5}" in server.log()
    stand_in = start_server(REMBG_MODEL="u2netp", REMBG_MODEL_PATH=str(damaged), U2NET_HOME=str(home)).wait_ready()
    assert stand_in.post(jpeg(photo())).headers["X-Model"] == "u2netp"
    assert f"model u2netp: its own file's stand-in is {damaged} (md5 {md5_of(damaged)}" in stand_in.log()


def test_a_rembg_session_without_a_record_is_refused_at_start_unless_the_operator_opts_in(start_server) -> None:
    server = start_server(REMBG_MODEL="bria-rmbg")
    assert server.wait_exit(60) == 2, server.log()
    assert "REMBG_MODEL='bria-rmbg' is rembg's session without a record here" in server.log()
    assert "REMBG_UNRECORDED_MODEL=on" in server.log()


def test_an_opted_in_session_without_a_record_serves_if_it_gives_one_mask(tmp_path: Path, start_server) -> None:
    """rembg's isnet-anime (an ISNet, no record here) from the ISNet file fetched here: its one mask is seen at
    start, and it serves under its own name."""
    place = tmp_path / "models" / "models" / "isnet-anime" / "isnet-anime.onnx"
    place.parent.mkdir(parents=True)
    place.symlink_to(isnet.fetch())
    env = {"REMBG_MODEL": "isnet-anime", "REMBG_UNRECORDED_MODEL": "on", "U2NET_HOME": str(tmp_path / "models")}
    server = start_server(**env).wait_ready()
    response = server.post(jpeg(photo()))
    assert response.status_code == 200 and response.headers["X-Model"] == "isnet-anime"
    assert "model isnet-anime gives one mask per image" in server.log()


def test_a_model_that_gives_several_masks_is_refused_at_start_not_at_the_first_request(
    tmp_path: Path, start_server
) -> None:
    """rembg's u2net_cloth_seg session returns three masks (upper, lower, full clothes) for every image: served,
    each request was a 500 while health said 200. Its own file cannot be fetched here, and rembg's lookup takes
    any file by its name: u2netp with its input's side left free (the network is fully convolutional) runs
    through the session's own predict() at its 768×768, and the real three masks come out."""
    import onnx

    model = onnx.load(str(MODEL_HOME / "models" / "u2netp" / "u2netp.onnx"))
    for value in (*model.graph.input, *model.graph.output):
        for dim in value.type.tensor_type.shape.dim[2:]:
            dim.dim_param = "side"
    del model.graph.value_info[:]
    place = tmp_path / "models" / "models" / "u2net_cloth_seg" / "u2net_cloth_seg.onnx"
    place.parent.mkdir(parents=True)
    onnx.save(model, str(place))
    env = {"REMBG_MODEL": "u2net_cloth_seg", "REMBG_UNRECORDED_MODEL": "on", "U2NET_HOME": str(tmp_path / "models")}
    server = start_server(**env)
    assert server.wait_exit(60) == 2, server.log()
    assert "model 'u2net_cloth_seg' gives 3 masks per image" in server.log()
    assert "Traceback" not in server.log()
