"""ONNX Runtime's optimised copy of a model, made where the function will run (model/optimized.py finds it).

A copy is written under a name of its own and renamed into place whole: its name says all it was
made for (model/optimized.py), and two makers of one name write the same thing.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

from ..model.optimized import KEY_DIGITS, Stamp, optimized_path

log = logging.getLogger(__name__)


def make(source: Path, home: Path, source_md5: str, threads: int = 1) -> Path | None:
    """Save ONNX Runtime's optimised graph of `source` (whose md5 is `source_md5`) for this CPU class and
    ONNX Runtime, and drop the copies of earlier originals at the same place; None where the CPU's
    features cannot be read."""
    import onnxruntime as ort

    stamp = Stamp.here(source_md5)
    if not stamp.features:
        log.warning("this CPU's features cannot be read (/proc/cpuinfo): no optimised copy of %s", source)
        return None
    target = optimized_path(source, home, stamp)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".making-") as work:
        copy = Path(work) / target.name
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.optimized_model_filepath = str(copy)
        options.log_severity_level = 3  # its warning that the copy is for this hardware: its name says so
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        os.replace(copy, target)
    for stale in copies(target, source):
        if stale != target:  # another original's, CPU class's or ONNX Runtime's
            stale.unlink(missing_ok=True)
    return target


def copies(target: Path, source: Path) -> list[Path]:
    """The copies of `source` beside `target`, whatever they were made for."""
    name = re.compile(rf"{re.escape(source.stem)}\.[0-9a-f]{{{KEY_DIGITS}}}{re.escape(source.suffix)}")
    return sorted(path for path in target.parent.glob("*") if name.fullmatch(path.name))
