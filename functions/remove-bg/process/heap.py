"""Large buffers freed straight back to the kernel, for the models that run without ONNX Runtime's arena.

glibc serves a large malloc with a mapping of its own, but once such a buffer has been freed it
raises that threshold (up to 32 MB), and buffers under it are then carved from the heap, whose
freed pages stay resident. A 1024×1024 model allocates and frees hundreds of megabytes of them on
every run, so without its arena the process kept their high-water mark anyway, and the peak of a
request varied by more than 100 MB from run to run (docs/models.md). A fixed threshold keeps
every large buffer a mapping of its own, returned when freed, at the price of page faults on every run.
glibc's own MALLOC_MMAP_THRESHOLD_, when set, wins.
"""

from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt parameter, from glibc's malloc.h
THRESHOLD_BYTES = 1 << 20
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
