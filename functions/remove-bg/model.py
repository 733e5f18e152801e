"""The rembg model: where its file is, and one ONNX Runtime session per process.

rembg decides where a model lives (under U2NET_HOME) and downloads it on first use. A server
must never download at start-up, so `locate` asks rembg's own lookup for the file and fails with
instructions when it is not there.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession

log = logging.getLogger(__name__)

# `import rembg` imports pymatting, which compiles numba code at import, slowly. Only alpha
# matting uses it and this function never does, so the JIT is left off (set before rembg is
# first imported, which happens only in this module; the image sets it too, in its Dockerfile).
os.environ.setdefault("NUMBA_DISABLE_JIT", "1")

# Sessions that need more than a model name (a custom path, prompts, a remote API key), or
# that return several masks per image, do not fit a one-image-in, one-cut-out-out function.
UNSUPPORTED_MODELS = frozenset({"u2net_custom", "dis_custom", "sam", "u2net_cloth_seg"})


class ModelError(RuntimeError):
    """The configured model cannot be used; the message says what to do."""


class ModelMissing(ModelError):
    pass


def session_class(name: str) -> type[BaseSession]:
    """rembg's session class for a model name, if this function can serve it."""
    from rembg.sessions import sessions

    cls = sessions.get(name)
    usable = sorted(
        key
        for key, value in sessions.items()
        if key not in UNSUPPORTED_MODELS and value.is_local() and not value.requires_credentials()
    )
    if cls is None or name not in usable:
        raise ModelError(f"REMBG_MODEL={name!r} is not a model this function serves; use one of: {', '.join(usable)}")
    return cls


def model_dir(name: str) -> Path:
    """The directory where rembg keeps (and downloads) this model's files."""
    return Path(session_class(name).model_dir())


def locate(name: str) -> Path:
    """The model's file on disk, found by rembg's own lookup; ModelMissing if it is not there."""
    base = session_class(name)

    class _LookupOnly(base):  # type: ignore[valid-type, misc]
        """rembg's download_models, stopped where it would start a download."""

        @classmethod
        def resolve_existing(cls, fname: str, *args: object, **kwargs: object) -> str | None:
            found = super().resolve_existing(fname, *args, **kwargs)
            if found is None:
                raise ModelMissing(
                    f"model {name!r} ({fname}) is not in {cls.model_dir()}; fetch it with "
                    f"`make model MODEL={name}` (or `python -m function.fetch {name}`) and point "
                    "U2NET_HOME at the same directory"
                )
            return found

    return Path(_LookupOnly.download_models())


def open_session(name: str, threads: int) -> BaseSession:
    """Load the model once: an ONNX Runtime session with `threads` intra-op threads."""
    import onnxruntime as ort
    from rembg import new_session

    path = locate(name)
    ort.disable_telemetry_events()  # self-hosted: nothing about the host is recorded or sent
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Memory patterns pre-plan one arena block per tensor shape: much more resident memory and no
    # speed-up at a model's fixed input size (the arena itself stays: it is faster).
    options.enable_mem_pattern = False
    # ONNX Runtime's threads spin between operators (which pays) and, by default, for a while
    # after each run too, holding the CPUs that the cut-out needs next: stop when the run returns.
    options.add_session_config_entry("session.force_spinning_stop", "1")
    try:
        session = new_session(name, sess_opts=options)
    except Exception as exc:  # ONNX Runtime's own errors say little more than "failed to parse"
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"model {name!r} at {path} cannot be loaded ({detail}): the file is damaged or is not this "
            f"model; fetch it again with `python -m function.fetch {name}` (md5-checked)"
        ) from None
    log.info("model %s loaded with %d ONNX Runtime threads", name, threads)
    return session
