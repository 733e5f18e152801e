"""Start-up: rembg's sessions without its remove(), and ONNX Runtime's optimised copy of a model, made
where it runs and refused where it was not made for."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from function.config import Settings
from function.model import fetch, optimized
from function.model.catalog import FAMILIES, ModelChoice, locate, open_session
from harness.processes import PYTHONPATH, ROOT
from tests.support.images import photo
from tests.support.server import MODEL_HOME

U2NETP = ModelChoice("u2netp")


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


def test_fetch_makes_the_optimised_copy_stamped_for_this_cpu(home: Path) -> None:
    path = fetch.fetch(U2NETP)
    copy = optimized.usable(path, home)
    assert copy == home / "optimized" / "models" / "u2netp" / "u2netp.onnx"
    stamp = json.loads(optimized.stamp_file(copy).read_text())
    assert stamp["features"] == list(optimized.cpu_features())
    assert stamp["source_size"] == path.stat().st_size


def test_the_optimised_copy_gives_the_same_mask_as_the_original(home: Path) -> None:
    astronaut = photo()
    original = _mask(U2NETP, astronaut)
    fetch.fetch(U2NETP)
    loaded = open_session(U2NETP, 2, arena=True)
    options = loaded.inner_session.get_session_options()
    assert options.graph_optimization_level.name == "ORT_DISABLE_ALL", "the copy is loaded, not re-optimised"
    assert np.array_equal(np.asarray(loaded.predict(astronaut)[0]), original)


@pytest.mark.parametrize(
    "change",
    [
        {"features": ["avx2"]},  # another CPU class: other kernels and layouts
        {"onnxruntime": "1.0.0"},
        {"source_size": 1},  # the original was replaced after the copy was made
    ],
)
def test_a_copy_made_for_another_cpu_or_runtime_is_not_loaded(home: Path, change: dict, caplog) -> None:
    path = fetch.fetch(U2NETP)
    stamp = optimized.stamp_file(optimized.optimized_path(path, home))
    stamp.write_text(json.dumps({**json.loads(stamp.read_text()), **change}))
    assert optimized.usable(path, home) is None
    options = open_session(U2NETP, 1, arena=True).inner_session.get_session_options()
    assert options.graph_optimization_level.name == "ORT_ENABLE_ALL", "the original, optimised as it loads"
    assert "loading the original" in caplog.text
    fetch.fetch(U2NETP)
    assert optimized.usable(path, home) is not None, "fetch makes it again, for this CPU"


def test_a_damaged_copy_means_the_original(home: Path, caplog) -> None:
    path = fetch.fetch(U2NETP)
    optimized.optimized_path(path, home).write_bytes(b"<html>not a model</html>")
    options = open_session(U2NETP, 1, arena=True).inner_session.get_session_options()
    assert options.graph_optimization_level.name == "ORT_ENABLE_ALL"
    assert "cannot be loaded" in caplog.text and "loading the original" in caplog.text


def test_the_setting_turns_the_copy_off(home: Path) -> None:
    fetch.fetch(U2NETP)
    assert Settings.from_env({"ORT_OPTIMIZED_COPY": "off"}).optimized_copy is False
    assert Settings.from_env({}).optimized_copy is True
    options = open_session(U2NETP, 1, arena=True, optimized_copy=False).inner_session.get_session_options()
    assert options.graph_optimization_level.name == "ORT_ENABLE_ALL"


def test_a_damaged_stamp_means_the_original(home: Path) -> None:
    path = fetch.fetch(U2NETP)
    optimized.stamp_file(optimized.optimized_path(path, home)).write_text("{")
    assert optimized.usable(path, home) is None


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
