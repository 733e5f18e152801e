"""ONNX Runtime's optimised copy of a model, made where it will run, and loaded only on a CPU like it.

A session spends a good part of its load optimising the graph (fusing operators, laying out
convolutions for the CPU's vector width). ONNX Runtime can save the result, and a session that
loads it with the optimisations off computes the same numbers, sooner and with a lower peak
(docs/deploy.md, Start-up and image). The saved graph holds kernels and layouts chosen for the CPU
class and ONNX Runtime version it was made with, so it is made at image build (or by
`function.model.fetch` where the function runs from a checkout) and carries a stamp of both; a process
on another CPU class or another ONNX Runtime loads the original and says so in its log.
"""

from __future__ import annotations

import json
import logging
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# The CPU features ONNX Runtime's kernels choose between on x86 and Arm (MLAS): a CPU with the
# same ones runs the same kernels and layouts.
KERNEL_FEATURES = frozenset(
    {
        "avx",
        "avx2",
        "fma",
        "f16c",
        "avx512f",
        "avx512bw",
        "avx512dq",
        "avx512vl",
        "avx512_vnni",
        "avx_vnni",
        "avx512_bf16",
        "amx_tile",
        "amx_int8",
        "amx_bf16",
        "asimd",
        "asimddp",
        "i8mm",
        "sve",
        "bf16",
    }
)
STAMP_SUFFIX = ".stamp.json"


@dataclass(frozen=True)
class Stamp:
    """What an optimised file was made for: it is loaded only where all of it matches."""

    onnxruntime: str
    machine: str
    features: tuple[str, ...]
    source_size: int  # the original's size: a replaced original makes its optimised copy stale

    @classmethod
    def here(cls, source: Path) -> Stamp:
        import onnxruntime as ort

        return cls(ort.__version__, platform.machine(), cpu_features(), source.stat().st_size)


def cpu_features(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, ...]:
    """The kernel-relevant features of this CPU, from the kernel's own list (empty where there is none)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return ()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return tuple(sorted(KERNEL_FEATURES.intersection(value.split())))
    return ()


def optimized_path(source: Path, home: Path) -> Path:
    """Where a model's optimised copy lives: under U2NET_HOME/optimized, where rembg's custom sessions load,
    at the original's own place under U2NET_HOME (models/u2net/u2net.onnx, custom/u2net-int8.onnx)."""
    try:
        place = source.resolve().relative_to(home.resolve())
    except ValueError:  # rembg's legacy models directory
        place = Path(source.name)
    return home / "optimized" / place


def make(source: Path, home: Path, threads: int = 1) -> Path:
    """Save ONNX Runtime's optimised graph of `source`, stamped for this CPU class and ONNX Runtime."""
    import onnxruntime as ort

    target = optimized_path(source, home)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(partial)
    options.log_severity_level = 3  # its warning that the copy is hardware-specific: the stamp is the answer
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    partial.replace(target)
    stamp_file(target).write_text(json.dumps(asdict(Stamp.here(source))))
    return target


def stamp_file(optimized: Path) -> Path:
    return optimized.with_name(optimized.name + STAMP_SUFFIX)


def usable(source: Path, home: Path) -> Path | None:
    """The optimised copy of `source` if there is one made for this CPU class and ONNX Runtime, else None."""
    target = optimized_path(source, home)
    stamp = stamp_file(target)
    if not target.is_file() or not stamp.is_file():
        return None
    try:
        fields = json.loads(stamp.read_text())
        made_for = Stamp(
            fields["onnxruntime"], fields["machine"], tuple(fields["features"]), int(fields["source_size"])
        )
    except (ValueError, TypeError, KeyError):
        log.warning("%s: unreadable stamp, loading the original %s", stamp, source)
        return None
    here = Stamp.here(source)
    if made_for != here:
        log.warning(
            "the optimised copy %s was made for %s; this is %s: loading the original %s",
            target,
            made_for,
            here,
            source,
        )
        return None
    return target
