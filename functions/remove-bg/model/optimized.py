"""ONNX Runtime's optimised copy of a model: found, and loaded only for the very file and CPU it was made from.

A session spends a good part of its load optimising the graph (fusing operators, laying out
convolutions for the CPU's vector width). ONNX Runtime can save the result, and a session that
loads it with the optimisations off computes the same numbers, sooner and with a lower peak
(docs/deploy.md, Start-up and image). The saved graph holds the original's weights and kernels and
layouts chosen for the CPU class and ONNX Runtime version it was made with, so it is made at image
build (function/prepare/optimize.py, run by `function.prepare.fetch`, also where the function runs
from a checkout) for one original's content and one CPU class; here it is only found.

Everything a copy depends on (the original's md5, ONNX Runtime's version, the machine and its
kernel-relevant CPU features) is in its file name, as a key, and in its stamp beside it. A replaced
original (of any size), another CPU or another ONNX Runtime looks for another name and finds no
copy; a CPU whose features cannot be read gets none; a copy without its stamp is not loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import re
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
CPUINFO = Path("/proc/cpuinfo")
KEY_DIGITS = 16


@dataclass(frozen=True)
class Stamp:
    """What an optimised file was made from and for: it is loaded only where all of it matches."""

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


def stamp_file(optimized: Path) -> Path:
    return optimized.with_name(optimized.name + STAMP_SUFFIX)


def copies(target: Path, source: Path) -> list[Path]:
    """The copies of `source` beside `target`, whatever they were made for."""
    name = re.compile(rf"{re.escape(source.stem)}\.[0-9a-f]{{{KEY_DIGITS}}}{re.escape(source.suffix)}")
    return sorted(path for path in target.parent.glob("*") if name.fullmatch(path.name))


def usable(source: Path, home: Path, source_md5: str) -> Path | None:
    """The optimised copy of `source` (of md5 `source_md5`) made for this CPU class and ONNX Runtime, else None."""
    here = Stamp.here(source_md5)
    if not here.features:
        log.warning("this CPU's features cannot be read (/proc/cpuinfo): loading the original %s", source)
        return None
    target = optimized_path(source, home, here)
    stamp = stamp_file(target)
    if not target.is_file() or not stamp.is_file():
        others = [path.name for path in copies(target, source)]
        if others:  # made for another original, CPU class or ONNX Runtime
            log.warning("no optimised copy of %s for %s (there are %s): loading the original", source, here, others)
        return None
    try:
        fields = json.loads(stamp.read_text())
        made_for = Stamp(fields["onnxruntime"], fields["machine"], tuple(fields["features"]), fields["source_md5"])
    except (ValueError, TypeError, KeyError):
        log.warning("%s: unreadable stamp, loading the original %s", stamp, source)
        return None
    if made_for != here:
        log.warning("the optimised copy %s was made for %s; this is %s: loading the original", target, made_for, here)
        return None
    return target
