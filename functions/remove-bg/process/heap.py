"""Large buffers freed straight back to the kernel, for every model.

glibc serves a large malloc with a mapping of its own, but once such a buffer has been freed it
raises that threshold (up to 32 MB), and buffers under it are then carved from the heap, whose
freed pages stay resident unless they are at its top. A photo's buffers (the body, the scaled
picture, the mask, the output's bands and its PNG) are 1–32 MB: served from the heap, each
request leaves them where the next one's do not fit, and the process kept a burst's high-water
mark instead of one photo's (u2net-int8, four clients sending 12 MP photos: +57–86 MB over the
first photo's peak, issue 30; `python -m bench.burst`). A fixed threshold keeps every large
buffer a mapping of its own, returned when freed, at the price of page faults.

The threshold depends on ONNX Runtime's arena. With it, the model's activations stay in the
arena, and 2 MB keeps the burst within a few MB of one photo at no measured cost; 1 MB cost 12 %
at 12 MP (its runs' own 1–2 MB buffers then fault in on every run). Without it, a 1024×1024
model allocates and frees hundreds of megabytes of activations on every run, and 1 MB hands
them back too (docs/models.md). glibc's own MALLOC_MMAP_THRESHOLD_, when set, wins.
"""

from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt parameter, from glibc's malloc.h
THRESHOLD_BYTES = 1 << 20  # without ONNX Runtime's arena: its activations are handed back too
ARENA_THRESHOLD_BYTES = 2 << 20  # with it: the picture's buffers, not the runs' own
ENV = "MALLOC_MMAP_THRESHOLD_"


def release_large_buffers(threshold: int = THRESHOLD_BYTES) -> bool:
    """Serve mallocs of `threshold` bytes and more by their own mappings; False where not glibc, or set already."""
    if ENV in os.environ:
        return False
    libc = ctypes.CDLL(None)  # the symbols already in the process, the C library's among them
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None or not hasattr(libc, "gnu_get_libc_version"):
        log.debug("not glibc: malloc's thresholds left as they are")
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, threshold))


def threshold(arena: bool) -> int:
    """The fixed mmap threshold for a process whose model runs with (or without) ONNX Runtime's arena."""
    return ARENA_THRESHOLD_BYTES if arena else THRESHOLD_BYTES
