"""ONNX Runtime's optimised copy of a model, made where the function will run (model/optimized.py finds it).

Copy and stamp are each written under a name of their own and renamed into place, copy first: a
copy without its stamp is not loaded, and two makers of one name write the same thing.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from ..model.optimized import Stamp, copies, optimized_path, stamp_file

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
        copy, written = Path(work) / target.name, Path(work) / "stamp.json"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.optimized_model_filepath = str(copy)
        options.log_severity_level = 3  # its warning that the copy is hardware-specific: the stamp is the answer
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        written.write_text(json.dumps(asdict(stamp)))
        os.replace(copy, target)  # first the copy, then the stamp that makes it loadable
        os.replace(written, stamp_file(target))
    for stale in copies(target, source):
        if stale != target:  # another original's, CPU class's or ONNX Runtime's
            stamp_file(stale).unlink(missing_ok=True)
            stale.unlink(missing_ok=True)
    return target
