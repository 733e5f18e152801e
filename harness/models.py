"""Models as tests and benchmarks name them, and the function's settings that serve each one.

A name is the function's (`u2net`, `u2netp`, `u2net-int8`, …), or `isnet` (the ISNet file fetched
here, harness/isnet.py, standing in for isnet-general-use's own) or `isnet-int8` (its int8 model,
standing in for isnet-general-use-int8's own), either followed by `+<core model>` (REMBG_CORE_MODEL:
the whole-subject model whose sure foreground is added). `QUALITY` is the quality tier as the stack
files deploy it, its very record, with the ISNet file this machine can reach in place of rembg's
download (`QUALITY_FP32`: the same before quantization); `FAST` the fast tier.
"""

from __future__ import annotations

from function.config import Settings
from function.model.records import QUANTIZED_MODELS
from function.prepare.fetch import fetch
from function.prepare.quantize import made
from harness import isnet

QUALITY_CORE = "u2netp"  # the quality tier's core model (docs/quality.md, The numbers)
QUALITY = f"{isnet.INT8_NAME}+{QUALITY_CORE}"  # ISNet int8 (as good as fp32 on the ground truth: docs/models.md)
QUALITY_FP32 = f"{isnet.NAME}+{QUALITY_CORE}"
FAST = "u2net-int8"  # the fast tier, and the function's default
PARITY = "u2net"  # rembg's own fp32 file: the parity mode
ORIGINALS = {"u2net-int8": "u2net", isnet.INT8_NAME: isnet.NAME}  # each int8 model's original, as named here
# The function's settings that say which model it serves: a name's own replace the caller's.
MODEL_SETTINGS = ("REMBG_MODEL", "REMBG_MODEL_PATH", "REMBG_MODEL_MD5", "REMBG_CORE_MODEL")


def settings(model: str) -> dict[str, str]:
    """The function's settings for a model as named here, its files fetched (md5-checked) or made."""
    main, _, core = model.partition("+")
    chosen = {isnet.NAME: isnet.env(), isnet.INT8_NAME: isnet.int8_env()}.get(main, {"REMBG_MODEL": main})
    if core:
        chosen["REMBG_CORE_MODEL"] = core
    for name in (main, core):
        if name == isnet.INT8_NAME:
            isnet.fetch_int8()
        elif name == isnet.NAME and not isnet.path().is_file():  # fetch() below checks its md5 once
            isnet.fetch()
        elif name in QUANTIZED_MODELS:
            made(name)
    settings = Settings.from_env(chosen)
    for choice in (settings.model, settings.core_model):
        if choice is not None:
            fetch(choice)  # verified, and its optimised copy made, as `make model` does
    return chosen


def environment(base: dict[str, str], model: str) -> dict[str, str]:
    """`base` with the model settings replaced by the named model's."""
    return {**{key: value for key, value in base.items() if key not in MODEL_SETTINGS}, **settings(model)}
