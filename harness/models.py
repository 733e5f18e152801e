"""Models as tests and benchmarks name them, and the function's settings that serve each one.

A name is rembg's (`u2net`, `u2netp`, …), or `isnet` (the ISNet file fetched here, harness/isnet.py,
served as rembg's dis_custom), either followed by `+<core model>` (REMBG_CORE_MODEL: the
whole-subject model whose sure foreground is added). `QUALITY` is the quality tier as the stack
files deploy it, with the ISNet file this machine can reach in place of rembg's download.
"""

from __future__ import annotations

from function.fetch import fetch
from function.model import ModelChoice
from harness import isnet

QUALITY_CORE = "u2netp"  # the quality tier's core model (README, Quality: by the numbers)
QUALITY = f"{isnet.NAME}+{QUALITY_CORE}"
FAST = "u2net"
# The function's settings that say which model it serves: a name's own replace the caller's.
MODEL_SETTINGS = ("REMBG_MODEL", "REMBG_MODEL_PATH", "REMBG_MODEL_MD5", "REMBG_CORE_MODEL")


def settings(model: str) -> dict[str, str]:
    """The function's settings for a model as named here, its files fetched (md5-checked)."""
    main, _, core = model.partition("+")
    for name in (main, core):
        if name == isnet.NAME:
            isnet.fetch()
        elif name:
            fetch(ModelChoice(name))
    chosen = isnet.env() if main == isnet.NAME else {"REMBG_MODEL": main}
    return {**chosen, **({"REMBG_CORE_MODEL": core} if core else {})}


def environment(base: dict[str, str], model: str) -> dict[str, str]:
    """`base` with the model settings replaced by the named model's."""
    return {**{key: value for key, value in base.items() if key not in MODEL_SETTINGS}, **settings(model)}
