"""Peak memory of one image, in a fresh process, through the function's own handler; and the cases to measure.

The cases are the largest image of every format and mode the function reads, at the worst
shapes. `make memory` prints them as the memory table (docs/reliability.md); tests/test_memory.py holds each to the
pod's budget at the largest size the default limits accept.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from function.picture.decode import MAX_SIDE, pixel_limit
from harness.cgroup import POD_LIMIT_BYTES, MemoryCgroup, own_memory_cgroup
from harness.pngs import raw_png

ROOT = Path(__file__).resolve().parent.parent
PYTHONPATH = ROOT / "build" / "pythonpath"
MB = 1_000_000
# What a process of either tier may use in a 2 GB pod: the rest is for bodies in transit, responses, page cache.
BUDGET_BYTES = 1_500_000_000

# Runs in the child: the handler started as the server starts it, a small photo first (what a
# serving process keeps from one request to the next, an arena's high-water mark say, is then
# there, as it is in a pod), then the image. The pod's peak is its memory cgroup's (harness/cgroup.py:
# the model's process, its decode zygote and worker, and the page cache, as the kubelet counts them);
# without a writable one, at most the model process's VmHWM, the zygote's and idle worker's resident
# memory and the decode worker's own peak for the image, all at once (they do not all peak together).
_CHILD = """
import io, json, os, sys
from pathlib import Path
from arenas import limit_arenas
limit_arenas()
from PIL import Image
from function import handler
function = handler.new()
function.start(dict(os.environ))
def status(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
def children(pid):
    found = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return found + [grandchild for child in found for grandchild in children(child)]
class Event:
    headers = {"Content-Type": "application/octet-stream"}
    method, path, query = "POST", "/", {}
    def __init__(self, body):
        self.body = body
class Context:
    def __init__(self):
        self.call_id, self.fields = "memory", {}
warm = io.BytesIO()
Image.radial_gradient("L").resize((640, 480)).convert("RGB").save(warm, "JPEG")
assert function.handle(Event(warm.getvalue()), Context())["statusCode"] == 200
baseline = status(os.getpid(), "VmHWM")
helpers = sum(status(pid, "VmRSS") for pid in children(os.getpid()))
pod = os.environ.get("MEMORY_POD_CGROUP")
if pod:
    Path(pod, "memory.max_usage_in_bytes").write_text("0")
    pod_baseline = int(Path(pod, "memory.usage_in_bytes").read_text())
context = Context()
answer = function.handle(Event(Path(sys.argv[1]).read_bytes()), context)
decode = round(context.fields.get("decode_peak_mb", 0) * 1e6)
peak = status(os.getpid(), "VmHWM")
print(json.dumps({
    "baseline": pod_baseline if pod else baseline + helpers,
    "peak": int(Path(pod, "memory.max_usage_in_bytes").read_text()) if pod else peak + helpers + decode,
    "measure": "cgroup" if pod else "the sum of each process's peak",
    "model_peak": peak, "decode_peak": decode, "decode_ms": context.fields.get("decode_ms", 0),
    "status": answer["statusCode"],
}))
"""


def photo_shape(pixels: int) -> tuple[int, int]:
    """(width, height) with about `pixels` pixels, 4:3 as a camera takes them."""
    height = max(1, math.floor(math.sqrt(pixels * 3 / 4)))
    return (max(1, pixels // height), height)


def tallest(pixels: int) -> tuple[int, int]:
    """As many rows as a picture may have (MAX_SIDE): Pillow keeps a pointer per row."""
    return (max(1, pixels // MAX_SIDE), MAX_SIDE)


def widest(pixels: int) -> tuple[int, int]:
    return tallest(pixels)[::-1]


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[tuple[int, int]], bytes]
    shape: Callable[[int], tuple[int, int]] = photo_shape


def _gradient(size: tuple[int, int], mode: str) -> Image.Image:
    """A smooth picture with a subject-like blob, cheap to make at any size and small once compressed."""
    width, height = size
    small = Image.radial_gradient("L").resize((max(1, width // 8), max(1, height // 8)))
    base = small.resize(size, Image.Resampling.NEAREST)
    if mode in ("L", "1", "P"):
        return base.convert(mode)
    bands = {"RGB": 3, "RGBA": 4, "CMYK": 4, "LA": 2}[mode]
    return Image.merge(mode, [base] * bands)


def _saved(fmt: str, mode: str, **options: object) -> Callable[[tuple[int, int]], bytes]:
    def make(size: tuple[int, int]) -> bytes:
        buffer = io.BytesIO()
        _gradient(size, mode).save(buffer, format=fmt, **options)
        return buffer.getvalue()

    return make


def _zero_png(bit_depth: int, color_type: int) -> Callable[[tuple[int, int]], bytes]:
    """All-zero rows (Pillow writes no 16-bit colour): a 30 MB body holds 100 MP."""
    return lambda size: raw_png(*size, bit_depth, color_type, None)


def _array_tiff(dtype: str) -> Callable[[tuple[int, int]], bytes]:
    """A one-band TIFF of 16- or 32-bit integers or 32-bit floats, deflated."""

    def make(size: tuple[int, int]) -> bytes:
        gray = np.asarray(_gradient(size, "L"))
        values = {"uint16": gray.astype(np.uint16) * 257, "int32": gray.astype(np.int32) * 65793}.get(dtype)
        image = Image.fromarray(gray.astype(np.float32) / 255 if values is None else values)
        buffer = io.BytesIO()
        image.save(buffer, format="TIFF", compression="tiff_adobe_deflate")
        return buffer.getvalue()

    return make


CASES = (
    Case("JPEG RGB", _saved("JPEG", "RGB", quality=50)),
    Case("JPEG L", _saved("JPEG", "L", quality=50)),
    Case("JPEG CMYK", _saved("JPEG", "CMYK", quality=50)),
    Case("PNG RGB", _saved("PNG", "RGB", compress_level=9)),
    Case("PNG RGBA", _saved("PNG", "RGBA", compress_level=9)),
    Case("PNG LA", _saved("PNG", "LA", compress_level=9)),
    Case("PNG P", _saved("PNG", "P", compress_level=9, transparency=0)),
    Case("PNG 16-bit gray", _zero_png(16, 0)),
    Case("PNG 48-bit RGB", _zero_png(16, 2)),
    Case("PNG 64-bit RGBA", _zero_png(16, 6)),
    Case("WebP RGB lossy", _saved("WEBP", "RGB", quality=50, method=0)),
    Case("WebP RGB lossless", _saved("WEBP", "RGB", lossless=True, quality=0, method=0)),
    Case("WebP RGBA lossless", _saved("WEBP", "RGBA", lossless=True, quality=0, method=0)),
    Case("GIF P", _saved("GIF", "P")),
    Case("BMP RGB", _saved("BMP", "RGB")),
    Case("TIFF RGBA", _saved("TIFF", "RGBA", compression="tiff_adobe_deflate")),
    Case("TIFF CMYK", _saved("TIFF", "CMYK", compression="tiff_adobe_deflate")),
    Case("TIFF 1-bit", _saved("TIFF", "1", compression="group4")),
    Case("TIFF 16-bit gray", _array_tiff("uint16")),
    Case("TIFF 32-bit int", _array_tiff("int32")),
    Case("TIFF 32-bit float", _array_tiff("float32")),
    Case("PNG RGBA, tallest", _zero_png(8, 6), tallest),
    Case("PNG RGBA, widest", _zero_png(8, 6), widest),
)


def largest_accepted(case: Case, limit: int) -> int:
    """The most pixels the function takes for the case's format under a pixel limit of `limit`."""
    return pixel_limit(case.make((16, 12)), limit)


def measure_case(case: Case, pixels: int, env: dict[str, str], work: Path) -> dict:
    """The case's image at the most pixels a limit of `pixels` accepts for its format, measured:
    peak, baseline, status, body size, bytes per pixel (the function's own rule gives the size)."""
    largest = largest_accepted(case, pixels)
    body = case.make(case.shape(largest))
    figures = measure(body, env, work)
    return {
        "case": case.name,
        **figures,
        "pixels": largest,
        "body": len(body),
        "bytes_per_pixel": (figures["peak"] - figures["baseline"]) / largest,
    }


def measure(body: bytes, env: dict[str, str], work: Path) -> dict:
    """The pod's peak (bytes) around a fresh process that starts the handler and handles `body` once."""
    path = work / "input.bin"
    path.write_bytes(body)
    child_env = {
        **os.environ,
        "U2NET_HOME": os.environ.get("U2NET_HOME", str(ROOT / ".models")),
        **env,
        "PYTHONPATH": f"{PYTHONPATH}:{ROOT / 'template' / 'python3-rembg'}",
    }
    parent = own_memory_cgroup()
    pod = MemoryCgroup(parent, POD_LIMIT_BYTES) if parent is not None else None
    try:
        with pod.joined() if pod is not None else contextlib.nullcontext():
            result = subprocess.run(
                [sys.executable, "-c", _CHILD, str(path)],
                env={**child_env, "MEMORY_POD_CGROUP": str(pod.path) if pod is not None else ""},
                capture_output=True,
                text=True,
                check=False,
            )
    finally:
        if pod is not None:
            pod.remove()
    if result.returncode != 0:
        raise RuntimeError(f"measuring child failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
