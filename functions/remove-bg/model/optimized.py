"""ONNX Runtime's optimised copy of a model: found, and loaded only for the very file and CPU it was made from.

A session spends a good part of its load optimising the graph (fusing operators, laying out
convolutions for the CPU's vector width). ONNX Runtime can save the result, and a session that
loads it with the optimisations off computes the same numbers, sooner and with a lower peak
(docs/deploy.md, Start-up and image). The saved graph holds the original's weights and kernels and
layouts chosen for the CPU class and ONNX Runtime version it was made with, so it is made at image
build (function/prepare/optimize.py, run by `function.prepare.fetch`, also where the function runs
from a checkout) for one original's content and one CPU class; here it is only found.

Everything a copy depends on (the original's md5, ONNX Runtime's version, the machine and its
kernel-relevant CPU features) is in its file name, as a key: a replaced original (of any size),
another CPU or another ONNX Runtime looks for another name and finds no copy; a CPU whose features
cannot be read gets none. A copy is renamed into place whole, so a name that is there is a copy
that was finished.
"""

from __future__ import annotations

import hashlib
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
CPUINFO = Path("/proc/cpuinfo")
KEY_DIGITS = 16


@dataclass(frozen=True)
class Stamp:
    """What an optimised file is made from and for: its name's key, so it is loaded only where all of it matches."""

    onnxruntime: str
    machine: str
    features: tuple[str, ...]  # never empty: a CPU whose features cannot be read gets no copy
    source_md5: str  # the original's content: a replaced original, whatever its size, has other copies

    @classmethod
    def here(cls, source_md5: str) -> Stamp:
        import onnxruntime as ort

        return cls(ort.__version__, platform.machine(), cpu_features(), source_md5)

    @property
    def key(self) -> str:
        """The copy's name for all it depends on."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:KEY_DIGITS]


def cpu_features() -> tuple[str, ...]:
    """The kernel-relevant features of this CPU, from the kernel's own list (empty where there is none)."""
    try:
        text = CPUINFO.read_text()
    except OSError:
        return ()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return tuple(sorted(KERNEL_FEATURES.intersection(value.split())))
    return ()


def optimized_path(source: Path, home: Path, stamp: Stamp) -> Path:
    """Where the copy of `source` made for `stamp` lives: under U2NET_HOME/optimized, where rembg's custom
    sessions load, at the original's own place, named by the stamp's key (models/u2net/u2net.<key>.onnx)."""
    try:
        place = source.resolve().relative_to(home.resolve())
    except ValueError:  # rembg's legacy models directory
        place = Path(source.name)
    return home / "optimized" / place.with_name(f"{place.stem}.{stamp.key}{place.suffix}")


def usable(source: Path, home: Path, source_md5: str) -> Path | None:
    """The optimised copy of `source` (of md5 `source_md5`) made for this CPU class and ONNX Runtime, else None."""
    here = Stamp.here(source_md5)
    if not here.features:
        log.warning("this CPU's features cannot be read (/proc/cpuinfo): loading the original %s", source)
        return None
    target = optimized_path(source, home, here)
    if not target.is_file():
        log.warning(
            "no optimised copy of %s made for this file, CPU class and ONNX Runtime (%s, key %s): loading the "
            "original, which is optimised as it loads (a slower start, the same masks)",
            source,
            here,
            here.key,
        )
        return None
    return target
