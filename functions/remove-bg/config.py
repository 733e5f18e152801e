"""The function's own settings, read by start() from the environment it is given.

(U2NET_HOME, where models live, is rembg's own variable: rembg reads it, and so does nothing here.)
Each is read by environment.py's one rule, the server's settings' too; a bad value raises its
SettingError (a ValueError, which the template turns into exit code 2) with a message that names
the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .environment import Environment, SettingError
from .model.locate import ModelChoice, unrecorded_models, usable_models
from .model.records import FILE_MODELS, OPERATOR, record

# u2net quantized: as good as rembg's fp32 u2net on the ground truth, and faster (docs/models.md).
DEFAULT_MODEL = "u2net-int8"
# From the memory table (docs/reliability.md): the worst format still keeps a process of either tier within 1.5 GB.
DEFAULT_MAX_INPUT_PIXELS = 50 * 1000 * 1000
DEFAULT_MAX_PIXELS = 25 * 1000 * 1000
DEFAULT_PNG_COMPRESS_LEVEL = 1
# A decode worker's memory beyond what it is forked with, and its time (docs/reliability.md, Bounds the pod enforces):
# the largest accepted picture of the costliest format decodes within both with room to spare.
DEFAULT_DECODE_MEMORY_BYTES = 700 * 1000 * 1000
DEFAULT_DECODE_SECONDS = 6.0
# The whole request, decode to cut-out: well under the platforms' 60 s gateway timeouts (docs/deploy.md).
DEFAULT_REQUEST_SECONDS = 20.0
MD5 = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Settings:
    """Which model, on how many threads, for pictures of what size, written how."""

    model: ModelChoice = field(default_factory=lambda: ModelChoice(DEFAULT_MODEL))  # REMBG_MODEL(_PATH, _MD5)
    core_model: ModelChoice | None = None  # REMBG_CORE_MODEL: a whole-subject model whose sure foreground is added
    memory_arena: bool | None = None  # ORT_MEMORY_ARENA; None: as its record says (model/records.py)
    threads: int | None = None  # ORT_THREADS, ONNX Runtime's intra-op threads; None: one per usable CPU
    max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS
    max_pixels: int = DEFAULT_MAX_PIXELS
    png_compress_level: int = DEFAULT_PNG_COMPRESS_LEVEL
    try_page: bool = True  # TRY_PAGE: the try-it page at GET /
    optimized_copy: bool = True  # ORT_OPTIMIZED_COPY: load a model's optimised copy where one fits this CPU
    decode_memory_bytes: int = DEFAULT_DECODE_MEMORY_BYTES
    decode_seconds: float = DEFAULT_DECODE_SECONDS
    request_seconds: float = DEFAULT_REQUEST_SECONDS

    @property
    def label(self) -> str:
        """The model as responses, logs and metrics name it: `isnet-general-use+u2netp` with a core model."""
        return self.model.label + ("" if self.core_model is None else f"+{self.core_model.label}")

    @property
    def arena(self) -> bool:
        """Whether ONNX Runtime's sessions keep their memory arena: as set, else as the model needs.

        One choice for the process: a core model's arena, kept beside a 1024×1024 model that runs
        without one, stays resident under the next request's run (docs/models.md).
        """
        return self.model.record.arena if self.memory_arena is None else self.memory_arena

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        read = Environment(env)
        return cls(
            model=_model(read),
            core_model=_core_model(read),
            memory_arena=read.switch("ORT_MEMORY_ARENA", None),
            max_input_pixels=read.whole("MAX_INPUT_PIXELS", DEFAULT_MAX_INPUT_PIXELS, low=1, high=1_000_000_000),
            max_pixels=read.whole("MAX_PIXELS", DEFAULT_MAX_PIXELS, low=100, high=1_000_000_000),
            png_compress_level=read.whole("PNG_COMPRESS_LEVEL", DEFAULT_PNG_COMPRESS_LEVEL, low=0, high=3),
            threads=read.whole("ORT_THREADS", None, low=1, high=256),
            try_page=read.switch("TRY_PAGE", True),
            optimized_copy=read.switch("ORT_OPTIMIZED_COPY", True),
            decode_memory_bytes=read.whole(
                "DECODE_MEMORY_BYTES", DEFAULT_DECODE_MEMORY_BYTES, low=50_000_000, high=100_000_000_000
            ),
            decode_seconds=read.seconds("DECODE_SECONDS", DEFAULT_DECODE_SECONDS, low=0.1, high=600.0),
            request_seconds=read.seconds("REQUEST_SECONDS", DEFAULT_REQUEST_SECONDS, low=0.1, high=3600.0),
        )


def _model(read: Environment) -> ModelChoice:
    """REMBG_MODEL, with REMBG_MODEL_PATH where its family's custom session can load a file: the operator's own
    model's (required there), or a file that stands in for a recorded model's own; and REMBG_MODEL_MD5."""
    name = _served(read.text("REMBG_MODEL") or DEFAULT_MODEL, "REMBG_MODEL", read)
    path = read.text("REMBG_MODEL_PATH")
    md5 = read.text("REMBG_MODEL_MD5")
    if record(name).source == OPERATOR and path is None:
        raise SettingError(f"REMBG_MODEL={name} loads the operator's file: REMBG_MODEL_PATH must name it")
    if name not in FILE_MODELS and path is not None:
        raise SettingError(
            f"REMBG_MODEL_PATH={path!r} is for the models whose family's custom session loads a file "
            f"({', '.join(sorted(FILE_MODELS))}), not {name}; unset it, or set REMBG_MODEL to the model the file is"
        )
    if md5 is not None and not MD5.fullmatch(md5.lower()):
        raise SettingError(f"REMBG_MODEL_MD5={md5!r}: expected 32 hexadecimal digits")
    return ModelChoice(name, Path(path) if path else None, md5.lower() if md5 else None)


def _core_model(read: Environment) -> ModelChoice | None:
    name = read.text("REMBG_CORE_MODEL")
    if name is None or name.lower() in ("none", "off"):
        return None
    if record(name).source == OPERATOR:
        raise SettingError(f"REMBG_CORE_MODEL={name}: the core model is one rembg fetches by name (u2net, u2netp…)")
    return ModelChoice(_served(name, "REMBG_CORE_MODEL", read))


def _served(name: str, variable: str, read: Environment) -> str:
    """`name` if the function serves that model (one without a record only with REMBG_UNRECORDED_MODEL=on); else
    a SettingError naming `variable` and the choices."""
    served, unrecorded = usable_models(), unrecorded_models()
    opted_in = read.switch("REMBG_UNRECORDED_MODEL", False)
    if name in served or (name in unrecorded and opted_in):
        return name
    if name in unrecorded:
        raise SettingError(
            f"{variable}={name!r} is rembg's session without a record here: never measured against the function's "
            "2 GB pod (memory, time, masks per image); set REMBG_UNRECORDED_MODEL=on to serve it anyway, or use "
            f"one of: {', '.join(served)}"
        )
    raise SettingError(
        f"{variable}={name!r} is not a model this function serves; use one of: {', '.join(served)} (or, with "
        f"REMBG_UNRECORDED_MODEL=on, one of rembg's sessions without a record: {', '.join(unrecorded)})"
    )
