"""make quality, make models and bench.options end to end: a set whose truth is the function's own masks scores
perfectly; MODNet runs through the function's pipeline and is measured beside u2netp."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from PIL import Image

from harness.processes import PYTHONPATH, ROOT
from tests.support import images
from tests.support.server import ServerProcess


def _own_set(server: ServerProcess, root: Path, truth: Callable[[Image.Image], Image.Image]) -> Path:
    """Three photos, each with the u2netp server's own mask, made into its truth by `truth`."""
    (root / "image").mkdir()
    (root / "alpha").mkdir()
    for name in images.PHOTOS:
        body = images.encode(images.photo(name), "PNG")
        (root / "image" / f"{name}.png").write_bytes(body)
        mask = requests.post(server.url + "/", data=body, params={"only_mask": "true"}, timeout=120)
        assert mask.status_code == 200
        truth(Image.open(io.BytesIO(mask.content))).save(root / "alpha" / f"{name}.png")
    return root


@pytest.fixture(scope="module")
def own_masks(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's own masks, thresholded at one half, as a binary truth; and a photo without one."""
    root = _own_set(server, tmp_path_factory.mktemp("set"), lambda mask: mask.point(lambda v: 255 if v >= 128 else 0))
    (root / "image" / "no-truth.png").write_bytes(images.encode(images.photo(), "PNG"))  # skipped: no alpha
    return root


def test_a_set_scored_against_the_function_s_own_masks(own_masks: Path, tmp_path: Path) -> None:
    result = _run("bench.quality", str(own_masks), "--models", "u2netp", "--soft-edges", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    found = json.loads((tmp_path / "quality.json").read_text())
    masks = found["masks"]["u2netp"]
    assert masks["images"] == len(images.PHOTOS)
    assert masks["mae"] < 0.05, "only the soft values' distance to the thresholded truth"
    assert masks["iou_mean"] == 1.0 and masks["iou_failures"] == 0
    assert masks["boundary_f"] == 1.0 and masks["s_measure"] > 0.9
    soft = found["soft_edges"]["u2netp"]
    assert soft["composites"] == 4 and 0 < soft["band_alpha_error"] < 1 and soft["halo"] > 0
    assert "| u2netp | 0.0" in result.stdout and "| 1.000 | 1.000 | 0/3 |" in result.stdout
    assert "Soft edges: 4 composites" in result.stdout
    with Image.open(tmp_path / "worst-u2netp.png") as sheet:
        assert sheet.height == 160 * len(images.PHOTOS)


@pytest.fixture(scope="module")
def own_mattes(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's own soft masks as measured mattes."""
    return _own_set(server, tmp_path_factory.mktemp("soft-set"), lambda mask: mask)


def test_a_soft_set_is_scored_as_mattes_with_crops_of_the_worst_edges(own_mattes: Path, tmp_path: Path) -> None:
    result = _run("bench.quality", str(own_mattes), "--models", "u2netp,u2net", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    found = json.loads((tmp_path / "quality.json").read_text())
    assert found["masks"] == {} and found["soft_edges"] == {}, "a matte is not scored as a mask"
    own, other = found["mattes"]["u2netp"], found["mattes"]["u2net"]
    assert own["images"] == len(images.PHOTOS)
    assert own["sad"] == own["mse"] == own["gradient"] == 0, "the truth is u2netp's own matte"
    assert other["sad"] > 0 and other["mse"] > 0 and other["gradient"] > 0
    assert 0 < own["halo"] < 255, "the photo's own colours against the estimated true foreground"
    assert "SAD (÷1000)" in result.stdout and "| u2netp | 0.00 | 0.0000 | 0.00 |" in result.stdout
    for name in ("edges.jpg", "gains.jpg", "losses.jpg"):
        with Image.open(tmp_path / name) as sheet:
            assert sheet.width == 4 * 256, "photo, truth, u2netp, u2net"
            assert sheet.height == 24 + 256 * len(images.PHOTOS)


def _run(*arguments: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(PYTHONPATH), "PATH": "/usr/bin:/bin", "U2NET_HOME": str(ROOT / ".models")}
    return subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=ROOT,
        env={**env, "NUMBA_DISABLE_JIT": "1", "HOME": str(ROOT / "build")},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_make_models_measures_each_model_in_a_process_of_its_own() -> None:
    result = _run("bench.models", "--models", "u2netp,modnet")
    assert result.returncode == 0, result.stderr
    rows = {
        line.split("|")[1].strip(): line
        for line in result.stdout.splitlines()
        if line.startswith("| u2netp") or line.startswith("| modnet")
    }
    assert set(rows) == {"u2netp", "modnet"}
    header = next(line for line in result.stdout.splitlines() if line.startswith("| model"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    for name, line in rows.items():
        cells = dict(zip(columns, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
        low, high = float(cells["s / image, 1280×960"]), float(cells["s / image, 4000×3000 (12 MP)"])
        assert 0 < low <= high * 1.5 and 200 < float(cells["peak RSS (MB)"]) < 1500
        if name == "u2netp":  # the model alone, rembg's own session of it, and a fresh process's start
            assert 0 < float(cells["model time (s)"]) < low
            assert float(cells["rembg's default session of the original (s)"]) > 0
            assert 0 < float(cells["ready (s)"]) < float(cells["first image (s)"])


def test_make_models_times_what_a_core_model_adds_in_one_process() -> None:
    result = _run("bench.models", "--pair", "u2netp,u2netp+u2netp")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [row.split("|")[1].strip() for row in rows] == ["1280×960", "4000×3000"]
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        alone, with_core, added = float(cells[1]), float(cells[2]), float(cells[3].rstrip("%"))
        # the times are printed to the millisecond, the percentage from the unrounded medians
        rounding = 100 * 0.0005 * (1 / alone + with_core / alone**2) + 0.05
        assert alone > 0 and with_core > 0 and added == pytest.approx((with_core / alone - 1) * 100, abs=rounding)


def test_modnet_is_scored_through_the_function_s_pipeline(own_masks: Path, tmp_path: Path) -> None:
    result = _run("bench.quality", str(own_masks), "--models", "modnet", "--soft-edges", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    masks = json.loads((tmp_path / "quality.json").read_text())["masks"]["modnet"]
    assert masks["images"] == len(images.PHOTOS) and 0 < masks["iou_mean"] <= 1


def test_edge_refinements_are_scored_beside_the_plain_function(own_masks: Path, tmp_path: Path) -> None:
    arguments = ["--models", "u2netp", "--edges", "guided-gray,fusion", "--soft-edges", "1", "--out", str(tmp_path)]
    result = _run("bench.quality", str(own_masks), *arguments)
    assert result.returncode == 0, result.stderr
    found = json.loads((tmp_path / "quality.json").read_text())
    plain, guided, fusion = (
        found["masks"][name] for name in ("u2netp", "u2netp edges=guided-gray", "u2netp edges=fusion")
    )
    assert guided["mae"] != plain["mae"], "the guided filter changes the mask"
    assert fusion["mae"] == plain["mae"], "blur-fusion changes only the colours"
    soft = found["soft_edges"]
    assert soft["u2netp edges=fusion"]["halo"] != soft["u2netp"]["halo"]
    assert soft["u2netp edges=fusion"]["band_alpha_error"] == soft["u2netp"]["band_alpha_error"]


def test_the_options_table_costs_each_option_through_the_function() -> None:
    result = _run("bench.options", "--model", "u2netp", "--size", "640x480")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 10 and rows[0].startswith("| plain PNG |")
    megabytes = {row.split("|")[1].strip(): float(row.split("|")[3]) for row in rows}
    assert megabytes["only_mask=true"] < megabytes["plain PNG"], "a gray mask is smaller than the RGBA cut-out"
