"""The build side stays out of the runtime: no runtime module imports function.prepare, statically or when
the function starts and answers, with each tier's models and on the paths that refuse (the image leaves the
package out: tests/container, so an import there is a pod that cannot start or answer)."""

from __future__ import annotations

import ast
import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness import models
from harness.processes import PYTHONPATH, ROOT
from tests.support import images
from tests.support.server import MODEL_HOME

FUNCTION = ROOT / "functions" / "remove-bg"
TEMPLATE = ROOT / "template" / "python3-rembg"
BUILD_SIDE = "function.prepare"
BUILD_TOOLS = ("onnx", "skimage", "pip")  # what only the build side needs (prepare/requirements.txt)


def _module_name(path: Path) -> str:
    parts = path.relative_to(FUNCTION).with_suffix("").parts
    return ".".join(("function", *parts)).removesuffix(".__init__")


def _imports(path: Path, module: str) -> set[str]:
    """Every module `path` imports, relative imports resolved against `module`."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def _runtime_files() -> list[Path]:
    inside = [path for path in FUNCTION.rglob("*.py") if "prepare" not in path.relative_to(FUNCTION).parts]
    return sorted(inside)


def test_no_runtime_module_imports_the_build_side() -> None:
    offenders = {}
    for path in _runtime_files():
        bad = {name for name in _imports(path, _module_name(path)) if name.startswith(BUILD_SIDE)}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    for path in TEMPLATE.glob("*.py"):
        bad = {name for name in _imports(path, path.stem) if name.startswith(BUILD_SIDE)}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert not offenders, offenders
    assert len(_runtime_files()) > 20, "the walk found the function's modules"


def test_tests_and_the_harness_never_import_the_benchmarks() -> None:
    """bench/ is the measurement commands; what tests share with them lives in harness/, which bench imports."""
    offenders = {}
    for folder in ("tests", "harness"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            bad = {name for name in _imports(path, module) if name == "bench" or name.startswith("bench.")}
            if bad:
                offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert not offenders, offenders


def test_the_import_walk_sees_a_relative_import_of_the_build_side(tmp_path: Path) -> None:
    """The check above would see the line it guards against, written either way."""
    probe = FUNCTION / "model" / "probe.py"
    for line in ("from ..prepare import fetch", "from function.prepare.quantize import quantize"):
        tmp = tmp_path / "probe.py"
        tmp.write_text(line + "\n")
        names = _imports(tmp, _module_name(probe))
        assert any(name.startswith(BUILD_SIDE) for name in names), (line, names)


# A fresh interpreter with the function's package alone: each start it reads (settings, U2NET_HOME) serves
# every body it reads (base64, query, status) with that status, or fails with the template's ValueError or
# RuntimeError (exit 2 or 1); then it prints what it imported of the build side and its tools.
_RUNTIME = f"""
import base64, json, os, sys
from types import SimpleNamespace
from function import handler
starts, bodies = json.load(sys.stdin)
for settings, home in starts:
    os.environ["U2NET_HOME"] = home
    function = handler.new()
    try:
        function.start(settings)
    except (ValueError, RuntimeError) as exc:
        print(json.dumps([settings, None, type(exc).__name__]))
        continue
    for body, query, status in bodies:
        event = SimpleNamespace(body=base64.b64decode(body), headers={{}}, method="POST", query=query, path="/")
        answer = function.handle(event, SimpleNamespace(call_id="layers", fields={{}}))
        assert answer["statusCode"] == status, (settings, query, answer["statusCode"], answer["body"][:300])
    function.stop()
    print(json.dumps([settings, "served", len(bodies)]))
tools = {BUILD_TOOLS!r}
print(sorted(name for name in sys.modules if name.startswith({BUILD_SIDE!r}) or name.split(".")[0] in tools))
"""
# What each start answers: a photo, and the client's mistakes (not a picture, a picture cut short, a bad option).
PHOTO = images.jpeg(images.photo("chelsea"))
BODIES = [
    (PHOTO, {}, 200),
    (PHOTO, {"format": "webp", "crop": "true"}, 200),
    (b"not a picture", {}, 415),
    (PHOTO[: len(PHOTO) // 2], {}, 400),
    (PHOTO, {"format": "tiff"}, 400),
]


def _runtime_imports(starts: list[tuple[dict[str, str], Path]], tmp_path: Path) -> tuple[list, str]:
    """What each start did in a fresh interpreter (`_RUNTIME`), and the build side it imported (printed last)."""
    bodies = [(base64.b64encode(body).decode(), query, status) for body, query, status in BODIES]
    result = subprocess.run(
        [sys.executable, "-c", _RUNTIME],
        input=json.dumps([[(settings, str(home)) for settings, home in starts], bodies]),
        env={"PYTHONPATH": f"{PYTHONPATH}:{ROOT}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    *done, imported = result.stdout.strip().splitlines()
    return [json.loads(line) for line in done], imported


@pytest.mark.parametrize(
    "tier",
    [
        "u2netp",
        pytest.param(models.FAST, marks=pytest.mark.other_models, id="fast tier"),
        pytest.param(models.QUALITY, marks=pytest.mark.other_models, id="quality tier"),
    ],
)
def test_a_function_that_loaded_a_tier_s_models_and_answered_never_imported_the_build_side(
    tmp_path: Path, tier: str
) -> None:
    """u2netp (make check's model); the fast tier, u2net-int8; the quality tier, ISNet int8 with u2netp's core:
    each loaded, a photo cut out and the client's mistakes answered, in a process that imported no build side."""
    settings = models.settings(tier)  # made or fetched here, by the build side, before the runtime starts
    done, imported = _runtime_imports([(settings, MODEL_HOME)], tmp_path)
    assert done == [[settings, "served", len(BODIES)]]
    assert imported == "[]", imported


def test_a_function_that_could_not_start_never_imported_the_build_side(tmp_path: Path) -> None:
    """Every way a start is refused (a bad setting, a model the function does not serve, a model or int8 file
    missing, a damaged file, a file whose md5 is not its pin), in one process: the messages that say what to
    do must not import the build side to say it, nor the missing file fetch it."""
    empty, damaged, pinned = (tmp_path / name for name in ("empty", "damaged", "pinned"))
    empty.mkdir()
    (damaged / "models" / "u2netp").mkdir(parents=True)
    (damaged / "models" / "u2netp" / "u2netp.onnx").write_bytes(b"<html>404</html>" * 100)
    (pinned / "custom").mkdir(parents=True)
    copy = pinned / "custom" / "u2netp.onnx"
    copy.write_bytes((MODEL_HOME / "models" / "u2netp" / "u2netp.onnx").read_bytes())
    starts = [
        ({"REMBG_MODEL": "u2netp", "MAX_PIXELS": "many"}, MODEL_HOME),
        ({"REMBG_MODEL": "no-such-model"}, MODEL_HOME),
        ({"REMBG_MODEL": "u2netp"}, empty),
        ({"REMBG_MODEL": models.FAST}, empty),
        ({"REMBG_MODEL": "u2netp"}, damaged),
        ({"REMBG_MODEL": "u2net_custom", "REMBG_MODEL_PATH": str(copy), "REMBG_MODEL_MD5": "0" * 32}, pinned),
    ]
    done, imported = _runtime_imports(starts, tmp_path)
    assert [status for _, status, _ in done] == [None] * len(starts), done
    assert not any(empty.rglob("*.onnx")), "nothing fetched"
    assert imported == "[]", imported
