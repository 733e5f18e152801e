"""The rembg model: which one, where its file is, and one ONNX Runtime session per process.

rembg decides where a model lives (under U2NET_HOME) and downloads it on first use. A server
must never download at start-up, so `locate` asks rembg's own lookup for the file and fails with
instructions when it is not there. rembg's custom sessions (`dis_custom`, `u2net_custom`) take
the operator's own file instead, which may be pinned by its md5, and serve the int8 models
(quantize.py) from their own place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import optimized
from .digest import md5_of
from .sessions import new_session, registry

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession

log = logging.getLogger(__name__)

# rembg's sessions that load a file the operator names (REMBG_MODEL_PATH) rather than one rembg fetches.
CUSTOM_MODELS = frozenset({"dis_custom", "u2net_custom"})
# int8 models made from rembg's own files (quantize.py), each served by the custom session of
# its family from U2NET_HOME/custom/<name>.onnx: the same pre- and post-processing as the original.
QUANTIZED_MODELS = {"u2net-int8": "u2net_custom", "isnet-general-use-int8": "dis_custom"}
QUANTIZED_FROM = {name: name.removesuffix("-int8") for name in QUANTIZED_MODELS}  # rembg's original
# Sessions that need prompts, a remote API key or an untested custom loader, or that return several
# masks per image, do not fit a one-image-in, one-cut-out-out function.
UNSUPPORTED_MODELS = frozenset({"sam", "u2net_cloth_seg", "ben_custom"})  # sam: not even imported (sessions.py)
# The models whose ONNX Runtime memory arena pays: their 320×320 activations are small, and the
# arena makes every u2net run faster. A 1024×1024 model's activations are most of a 2 GB pod, which
# the arena would keep resident between requests (docs/reliability.md, docs/models.md).
ARENA_MODELS = frozenset({"u2net", "u2netp", "u2net_human_seg", "u2net_custom", "silueta", "u2net-int8"})

# rembg's custom session of each model family: it loads an optimised copy (optimized.py) with the
# family's own pre- and post-processing (the predict() of each pair is the same code).
FAMILIES = {
    "u2net": "u2net_custom",
    "u2netp": "u2net_custom",
    "u2net_custom": "u2net_custom",
    "isnet-general-use": "dis_custom",
    "dis_custom": "dis_custom",
}


@dataclass(frozen=True)
class ModelChoice:
    """A rembg session by name, and for the custom sessions the operator's file; optionally md5-pinned."""

    name: str
    path: Path | None = None  # REMBG_MODEL_PATH: the file a custom session loads
    md5: str | None = None  # REMBG_MODEL_MD5: the file must have this md5, checked before it is loaded

    @property
    def label(self) -> str:
        """How responses, logs and metrics name it: rembg's name, with the file's for a custom session."""
        return f"{self.name}:{self.path.name}" if self.path is not None else self.name

    @property
    def arena(self) -> bool:
        return self.name in ARENA_MODELS

    @property
    def session(self) -> str:
        """rembg's session that serves it: its own name, or for an int8 model its family's custom session."""
        return QUANTIZED_MODELS.get(self.name, self.name)

    @property
    def custom(self) -> bool:
        """Whether rembg loads it from a given file (REMBG_MODEL_PATH, or an int8 model's own place)."""
        return self.session in CUSTOM_MODELS


class ModelError(RuntimeError):
    """The configured model cannot be used; the message says what to do."""


class ModelMissing(ModelError):
    pass


class ChecksumMismatch(ModelError):
    pass


def verify(path: Path, expected_md5: str) -> None:
    actual = md5_of(path)
    if actual != expected_md5:
        raise ChecksumMismatch(f"{path}: md5 {actual} is not the expected {expected_md5}")


def usable_models() -> list[str]:
    """The names this function serves: rembg's local sessions without credentials that give one mask per
    image, and the int8 models."""
    sessions = registry()
    return sorted(
        [
            key
            for key, value in sessions.items()
            if key not in UNSUPPORTED_MODELS and value.is_local() and not value.requires_credentials()
        ]
        + list(QUANTIZED_MODELS)
    )


def session_class(name: str) -> type[BaseSession]:
    """rembg's session class for a model name (an int8 model's: its family's custom session), if served."""
    usable = usable_models()
    if name not in usable:
        raise ModelError(f"REMBG_MODEL={name!r} is not a model this function serves; use one of: {', '.join(usable)}")
    return registry()[QUANTIZED_MODELS.get(name, name)]


def home_of(choice: ModelChoice) -> Path:
    """rembg's models directory (U2NET_HOME), where custom files and optimised copies must lie."""
    return Path(session_class(choice.name).rembg_home())


def quantized_file(name: str) -> Path:
    """Where an int8 model's file lives: U2NET_HOME/custom/<name>.onnx, under rembg's models directory."""
    return home_of(ModelChoice(name)) / "custom" / f"{name}.onnx"


def model_dir(name: str) -> Path:
    """The directory where rembg keeps (and downloads) this model's files."""
    return Path(session_class(name).model_dir())


def locate(choice: ModelChoice) -> Path:
    """The model's file on disk: the operator's, or the one rembg's own lookup finds; ModelMissing if absent."""
    base = session_class(choice.name)
    if choice.name in QUANTIZED_MODELS and choice.path is None:
        path = quantized_file(choice.name)
        if not path.is_file():
            raise ModelMissing(
                f"model {choice.name!r} is not at {path}; make it from {QUANTIZED_FROM[choice.name]} with "
                f"`make quantize MODEL={choice.name}` (python -m function.model.quantize {choice.name}), or build the "
                f"image with `make image MODEL={choice.name}`, which makes it"
            )
        return path
    if choice.custom:
        return _custom_file(choice, base)

    class _LookupOnly(base):  # type: ignore[valid-type, misc]
        """rembg's download_models, stopped where it would start a download."""

        @classmethod
        def resolve_existing(cls, fname: str, *args: object, **kwargs: object) -> str | None:
            found = super().resolve_existing(fname, *args, **kwargs)
            if found is None:
                raise ModelMissing(
                    f"model {choice.name!r} ({fname}) is not in {cls.model_dir()}; fetch it with "
                    f"`make model MODEL={choice.name}` (or `python -m function.model.fetch {choice.name}`) and point "
                    "U2NET_HOME at the same directory"
                )
            return found

    return Path(_LookupOnly.download_models())


def _custom_file(choice: ModelChoice, base: type[BaseSession]) -> Path:
    """The operator's file, where rembg's custom sessions accept one: under its models directory."""
    if choice.path is None:
        raise ModelError(f"REMBG_MODEL={choice.name} loads the operator's file: set REMBG_MODEL_PATH")
    try:
        path = Path(base.validate_model_path(model_path=str(choice.path)))
    except ValueError:
        raise ModelError(
            f"REMBG_MODEL_PATH={choice.path} is outside the models directory {base.rembg_home()}: "
            "rembg loads custom models only from under U2NET_HOME"
        ) from None
    if not path.is_file():
        raise ModelMissing(f"REMBG_MODEL_PATH={choice.path}: no such file (mount or copy the model there)")
    return path


@dataclass(frozen=True)
class Loaded:
    """A model's ONNX Runtime session, and what it was loaded from."""

    session: BaseSession
    md5: str  # its content: the pin where there is one (checked), else read from the file before loading
    file: Path  # the file ONNX Runtime loaded: the source, or its optimised copy (bound to the same md5)


def open_session(choice: ModelChoice, threads: int, arena: bool, optimized_copy: bool = True) -> BaseSession:
    """Load the model once (see load())."""
    return load(choice, threads, arena, optimized_copy).session


def load(choice: ModelChoice, threads: int, arena: bool, optimized_copy: bool = True) -> Loaded:
    """Load the model once: an ONNX Runtime session with `threads` intra-op threads.

    `arena` keeps ONNX Runtime's memory arena: faster runs, and its high-water mark stays resident.
    `optimized_copy` loads the model's optimised copy where one was made from this very file for
    this CPU (optimized.py): the md5 it is found by is the pin, checked, or the file's own.
    """
    import onnxruntime as ort

    path = locate(choice)
    if choice.md5 is not None:
        verify(path, choice.md5)
    md5 = choice.md5 or md5_of(path)
    ort.disable_telemetry_events()  # self-hosted: nothing about the host is recorded or sent
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Memory patterns pre-plan one arena block per tensor shape: much more resident memory and no
    # speed-up at a model's fixed input size.
    options.enable_mem_pattern = False
    options.enable_cpu_mem_arena = arena
    # ONNX Runtime's threads spin between operators (which pays) and, by default, for a while
    # after each run too, holding the CPUs that the cut-out needs next: stop when the run returns.
    options.add_session_config_entry("session.force_spinning_stop", "1")
    copies = optimized_copy and choice.session in FAMILIES
    ready_made = optimized.usable(path, home_of(choice), md5) if copies else None
    session = None
    if ready_made is not None:  # its graph was optimised for this CPU class when it was made
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            session = new_session(FAMILIES[choice.session], options, str(ready_made))
        except Exception as exc:  # a damaged copy: the original still serves
            log.warning("the optimised copy %s cannot be loaded (%s): loading the original %s", ready_made, exc, path)
            ready_made = None
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        if session is None:
            session = new_session(choice.session, options, str(path) if choice.custom else None)
    except Exception as exc:  # ONNX Runtime's own errors say little more than "failed to parse"
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        again = (
            f"make it again with `make quantize MODEL={choice.name} QUANTIZE_FLAGS=--force`"
            if choice.name in QUANTIZED_MODELS
            else "supply it again (REMBG_MODEL_MD5 pins its md5)"
            if choice.custom
            else f"fetch it again with `python -m function.model.fetch {choice.name}` (md5-checked)"
        )
        raise ModelError(
            f"model {choice.label!r} at {path} cannot be loaded ({detail}): the file is damaged or is not this "
            f"model; {again}"
        ) from None
    log.info(
        "model %s loaded%s with %d ONNX Runtime threads, memory arena %s (md5 %s)",
        choice.label,
        "" if ready_made is None else f" from its optimised copy {ready_made}",
        threads,
        "on" if options.enable_cpu_mem_arena else "off",
        md5,
    )
    return Loaded(session, md5, path if ready_made is None else ready_made)
