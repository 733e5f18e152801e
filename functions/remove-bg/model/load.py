"""One ONNX Runtime session per process, from the model's file or its optimised copy, its md5 known."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import optimized
from .digest import ChecksumMismatch, ModelError, checked
from .locate import ModelChoice, home_of, locate
from .masks import one_mask
from .sessions import new_session

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession

log = logging.getLogger(__name__)


@functools.cache
def shared_arena() -> None:
    """One CPU arena for every session of the process, registered once.

    Each session's own arena keeps its model's high-water mark between requests, and a model and
    its core model run one after the other: with one arena each, the quality tier held both
    high-water marks at once. Shared, the second model reuses what the first freed. ONNX
    Runtime's default growth (to the next power of two) kept less than growing by what each run
    asks. The figures are in docs/models.md (Memory, ISNet in a 2 GB pod).
    """
    import onnxruntime as ort

    where = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
    ort.create_and_register_allocator(where, ort.OrtArenaCfg({}))


@dataclass(frozen=True)
class Loaded:
    """A model's ONNX Runtime session, and what it was loaded from."""

    session: BaseSession
    md5: str  # its content, read from the file before loading and held to its pins (ModelChoice.pins)
    file: Path  # the file ONNX Runtime loaded: the source, or its optimised copy (bound to the same md5)


def open_session(choice: ModelChoice, threads: int, arena: bool, optimized_copy: bool = True) -> BaseSession:
    """Load the model once (see load())."""
    return load(choice, threads, arena, optimized_copy).session


def load(choice: ModelChoice, threads: int, arena: bool, optimized_copy: bool = True) -> Loaded:
    """Load the model once: an ONNX Runtime session with `threads` intra-op threads.

    `arena` keeps ONNX Runtime's memory arena: faster runs, and its high-water mark stays resident.
    Every session of the process then takes its memory from one arena (shared_arena()).
    `optimized_copy` loads the model's optimised copy where one was made from this very file for
    this CPU (optimized.py): the md5 it is found by is the file's own, checked against its pins (its
    record's for its own file, REMBG_MODEL_MD5's). A model without a record must give one mask (masks.py).
    """
    import onnxruntime as ort

    path = locate(choice)
    try:
        md5 = checked(path, choice.pins)
    except ChecksumMismatch as exc:  # a file that parses may still be damaged, or not this model
        raise ChecksumMismatch(f"model {choice.label!r}: {exc}; {_again(choice)}") from None
    if choice.stands_in:
        log.info("model %s: its own file's stand-in is %s (md5 %s, REMBG_MODEL_PATH)", choice.name, path, md5)
    ort.disable_telemetry_events()  # self-hosted: nothing about the host is recorded or sent
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Memory patterns pre-plan one arena block per tensor shape: much more resident memory and no
    # speed-up at a model's fixed input size.
    options.enable_mem_pattern = False
    options.enable_cpu_mem_arena = arena
    if arena:
        shared_arena()
        options.add_session_config_entry("session.use_env_allocators", "1")
    # ONNX Runtime's threads spin between operators (which pays) and, by default, for a while
    # after each run too, holding the CPUs that the cut-out needs next: stop when the run returns.
    options.add_session_config_entry("session.force_spinning_stop", "1")
    family = choice.record.family if optimized_copy else None
    ready_made = None if family is None else optimized.usable(path, home_of(choice), md5)
    session = None
    if ready_made is not None:  # its graph was optimised for this CPU class when it was made
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            session = new_session(family, options, str(ready_made))
        except Exception as exc:  # a damaged copy: the original still serves
            log.warning("the optimised copy %s cannot be loaded (%s): loading the original %s", ready_made, exc, path)
            ready_made = None
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        if session is None:
            session = new_session(choice.session, options, str(path) if choice.custom else None)
    except Exception as exc:  # ONNX Runtime's own errors say little more than "failed to parse"
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"model {choice.label!r} at {path} cannot be loaded ({detail}): the file is damaged or is not this "
            f"model; {_again(choice)}"
        ) from None
    if not choice.record.recorded:
        one_mask(choice.name, session)
    log.info(
        "model %s loaded%s with %d ONNX Runtime threads, memory arena %s (md5 %s)",
        choice.label,
        "" if ready_made is None else f" from its optimised copy {ready_made}",
        threads,
        "on" if options.enable_cpu_mem_arena else "off",
        md5,
    )
    return Loaded(session, md5, path if ready_made is None else ready_made)


def _again(choice: ModelChoice) -> str:
    """How to get a good file for the model: whatever brought the damaged one, again."""
    return (
        "supply it again (REMBG_MODEL_MD5 pins its md5)"
        if choice.path is not None
        else f"build the image again (`make image MODEL={choice.name}`, which checks the file), or mount a "
        "models folder that holds a good copy at U2NET_HOME"
    )
