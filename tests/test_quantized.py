"""The int8 models: made by the committed command from the md5-checked original, served by name, never
fetched, and the default only because the ground truth says it is as good as rembg's fp32 u2net."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from function.model.digest import md5_of
from function.model.load import open_session
from function.model.locate import ModelChoice, ModelMissing, locate
from function.model.records import record
from function.prepare import fetch
from function.prepare.quantize import QuantizationRejected, Verdict, checked, quantized_graph
from function.prepare.quantize import main as quantize_main
from harness import quantized
from harness.sets import SHARED
from tests.support.images import PHOTOS, photo
from tests.support.server import MODEL_HOME


@pytest.mark.parametrize(("tier", "data"), [*(("fast", data) for data in quantized.SETS), ("quality", "grabcut50")])
def test_each_tier_s_int8_model_is_as_good_as_its_original_on_ground_truth(tier: str, data: str) -> None:
    """The rule that made them the tiers' models (docs/models.md): MAE +0.002, IoU −0.005, SAD and soft-band
    MSE +3 % at most. The quality tier's mattes take 8 minutes more: `make quantized` judges them."""
    judged = quantized.judge(tier, SHARED / data)
    assert judged, data
    for row in judged:
        assert row.within, row


def test_quantizing_is_reproducible_gives_an_int8_graph_and_a_model_far_off_is_refused(tmp_path: Path) -> None:
    """u2netp, the quickest to quantize: the same calibration twice gives the same file, its weights in int8;
    and quantized as u2net is (MinMax ranges), its masks are far from the fp32 model's (docs/models.md), so
    the check refuses it, with the numbers, whether the command makes it or finds it already made."""
    import onnx

    source = MODEL_HOME / "models" / "u2netp" / "u2netp.onnx"
    made = [quantized_graph(source, "u2net_custom", tmp_path / f"u2netp-int8-{run}.onnx") for run in (1, 2)]
    assert md5_of(made[0]) == md5_of(made[1]), "the same calibration on the same machine: the same file"
    graph = onnx.load(str(made[0]), load_external_data=False).graph
    assert {"QuantizeLinear", "DequantizeLinear"} <= {node.op_type for node in graph.node}
    weights = [init for init in graph.initializer if init.data_type == onnx.TensorProto.INT8]
    assert sum(np.prod(w.dims) for w in weights) > 1_000_000, "the convolutions' weights are int8"
    assert made[0].stat().st_size < source.stat().st_size / 2
    with pytest.raises(QuantizationRejected, match=r"motorcycle: mean \d+\.\d\d/255, worst \d+/255, IoU 0\.\d+"):
        checked(source, made[0], "u2net_custom")
    target = MODEL_HOME / "custom" / "test-u2netp-int8.onnx"
    assert quantize_main(["--source", str(source), "--session", "u2net_custom", "--out", str(target)]) == 1
    assert not target.exists() and not list(target.parent.glob(".quantizing-*")), "nothing is left of it"


@pytest.fixture
def u2net_home(tmp_path: Path, monkeypatch) -> Path:
    """A models directory (U2NET_HOME, set) holding u2net's original and an empty custom/, for an int8 file."""
    home = tmp_path / "home"
    (home / "models" / "u2net").mkdir(parents=True)
    (home / "models" / "u2net" / "u2net.onnx").symlink_to(MODEL_HOME / "models" / "u2net" / "u2net.onnx")
    (home / "custom").mkdir()
    monkeypatch.setenv("U2NET_HOME", str(home))
    return home


def test_an_int8_file_already_there_is_checked_against_its_original(u2net_home: Path, caplog) -> None:
    """`make quantize` on a file made before (or put there): u2netp posing as u2net's int8 model is refused;
    the real one passes, and the command says by how much."""
    caplog.set_level(logging.INFO)
    posing = u2net_home / "custom" / "u2net-int8.onnx"
    posing.symlink_to(MODEL_HOME / "models" / "u2netp" / "u2netp.onnx")
    assert quantize_main(["u2net-int8"]) == 1
    assert "too far from it" in caplog.text
    assert not Verdict.place(posing).exists(), "a refused file gets no verdict"
    posing.unlink()
    shutil.copy(MODEL_HOME / "custom" / "u2net-int8.onnx", posing)
    assert quantize_main(["u2net-int8"]) == 0
    assert "checked against its original: motorcycle" in caplog.text
    assert "the original's masks of the check photos" in caplog.text


def test_an_int8_file_is_checked_once_per_pair_of_files(u2net_home: Path, caplog) -> None:
    """A restart does not redo the build's work: the verdict is kept beside the int8 file, bound to its md5 and
    its original's; another int8 file (or a verdict for another original than the record pins) is checked."""
    caplog.set_level(logging.INFO)
    int8 = u2net_home / "custom" / "u2net-int8.onnx"
    shutil.copy(MODEL_HOME / "custom" / "u2net-int8.onnx", int8)
    assert quantize_main(["u2net-int8"]) == 0
    kept = json.loads(Verdict.place(int8).read_text())
    assert kept["int8_md5"] == md5_of(int8) and kept["original_md5"] == record("u2net").md5
    caplog.clear()
    assert fetch.main(["u2net-int8"]) == 0, "make model, as make serve runs it"
    assert "found before" in caplog.text and "the original's masks" not in caplog.text, "not checked again"
    Verdict.place(int8).write_text(json.dumps({**kept, "original_md5": "0" * 32}))
    caplog.clear()
    assert fetch.main(["u2net-int8"]) == 0
    assert "the original's masks" in caplog.text, "a verdict for another original is no verdict"
    int8.unlink()
    int8.symlink_to(MODEL_HOME / "models" / "u2netp" / "u2netp.onnx")  # another file, with the old verdict
    caplog.clear()
    assert fetch.main(["u2net-int8"]) == 1
    assert "too far from it" in caplog.text


def test_a_verdict_that_cannot_be_kept_leaves_the_file_to_be_checked_again(tmp_path: Path, caplog) -> None:
    """A directory where the verdict goes (as a bind mount of a file not there yet makes one), or a folder the
    verdict cannot be written to: the file passed its check, so `make model` goes on, saying why the next start
    checks it again, where it ended in an IsADirectoryError (exit 1) after the check, leaving its partial file."""
    int8 = tmp_path / "u2net-int8.onnx"
    int8.write_bytes(b"an int8 model")
    Verdict.place(int8).mkdir()
    caplog.set_level(logging.WARNING)
    Verdict(md5_of(int8), record("u2net").md5, "checked against its original: fine").keep(int8)
    assert "not kept" in caplog.text and str(Verdict.place(int8)) in caplog.text
    assert sorted(path.name for path in tmp_path.iterdir()) == [int8.name, Verdict.place(int8).name], "no partial"
    assert Verdict.kept(int8, record("u2net").md5) is None, "checked again"


@pytest.mark.parametrize("kept", ['{"int8_md5": "', "\udcff", "[" * 100_000, '{"int8_md5": 1}', "null"])
def test_a_verdict_that_is_no_verdict_is_checked_again(tmp_path: Path, kept: str) -> None:
    """Cut short, not UTF-8, nested past the parser's stack (a RecursionError was a traceback), of another shape."""
    int8 = tmp_path / "u2net-int8.onnx"
    int8.write_bytes(b"an int8 model")
    Verdict.place(int8).write_bytes(kept.encode(errors="surrogateescape"))
    assert Verdict.kept(int8, record("u2net").md5) is None


def test_u2net_int8_cuts_out_what_u2net_does() -> None:
    """On the test photos its mask stays near the fp32 one; the ground truth, not this, judged it."""
    int8, fp32 = (open_session(ModelChoice(name), 2, arena=True) for name in ("u2net-int8", "u2net"))
    for name in PHOTOS:
        difference = np.abs(
            np.asarray(int8.predict(photo(name))[0], float) - np.asarray(fp32.predict(photo(name))[0], float)
        )
        assert 0 < difference.mean() < 10, name


def test_an_int8_model_that_is_not_there_says_what_the_image_s_operator_can_do(tmp_path: Path, monkeypatch):
    """A pod never makes or fetches one: its message names what an operator of the image can do (build the image
    with it, or mount it), not a build-side command the image does not carry."""
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    with pytest.raises(ModelMissing, match=r"make image MODEL=u2net-int8.*mount a models folder") as missing:
        locate(ModelChoice("u2net-int8"))
    assert "prepare" not in str(missing.value) and "make quantize" not in str(missing.value)
    with pytest.raises(ModelMissing, match=r"make image MODEL=u2netp"):
        locate(ModelChoice("u2netp"))
    assert not any(tmp_path.rglob("*.onnx")), "nothing was fetched"


def test_the_int8_model_lives_under_the_models_directory() -> None:
    assert locate(ModelChoice("u2net-int8")) == MODEL_HOME / "custom" / "u2net-int8.onnx"
