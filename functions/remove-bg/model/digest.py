"""A model file's content hash: what pins it, what its optimised copy is bound to, what the metric reports."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1 << 20


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ModelError(RuntimeError):
    """The configured model cannot be used; the message says what to do."""


class ChecksumMismatch(ModelError):
    pass


def checked(path: Path, pins: tuple[str, ...]) -> str:
    """The file's md5, read once; ChecksumMismatch if it is not every one of `pins` (two pins that differ
    cannot both hold)."""
    actual = md5_of(path)
    for expected_md5 in pins:
        if actual != expected_md5:
            raise ChecksumMismatch(f"{path}: md5 {actual} is not the expected {expected_md5}")
    return actual
