"""The build side stays out of the runtime: no runtime module imports function.prepare, statically or when
a server starts and answers (the image leaves the package out: tests/container)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from harness.processes import PYTHONPATH, ROOT

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


def test_the_import_walk_sees_a_relative_import_of_the_build_side(tmp_path: Path) -> None:
    """The check above would see the line it guards against, written either way."""
    probe = FUNCTION / "model" / "probe.py"
    for line in ("from ..prepare import fetch", "from function.prepare.quantize import quantize"):
        tmp = tmp_path / "probe.py"
        tmp.write_text(line + "\n")
        names = _imports(tmp, _module_name(probe))
        assert any(name.startswith(BUILD_SIDE) for name in names), (line, names)


def test_a_server_that_loaded_its_model_and_answered_never_imported_the_build_side(tmp_path: Path) -> None:
    code = f"""
import io, sys
from types import SimpleNamespace
from PIL import Image
from function import handler
photo = io.BytesIO()
Image.radial_gradient("L").convert("RGB").save(photo, "JPEG")
function = handler.new()
function.start({{"REMBG_MODEL": "u2netp"}})
event = SimpleNamespace(body=photo.getvalue(), headers={{}}, method="POST", query={{}}, path="/")
answer = function.handle(event, SimpleNamespace(fields={{}}))
assert answer["statusCode"] == 200, answer
tools = {BUILD_TOOLS!r}
print(sorted(name for name in sys.modules if name.startswith({BUILD_SIDE!r}) or name.split(".")[0] in tools))
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": f"{PYTHONPATH}:{ROOT}", "U2NET_HOME": str(ROOT / ".models"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]", result.stdout
