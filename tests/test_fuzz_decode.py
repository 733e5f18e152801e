"""A bounded mutation fuzz of the decoders: small valid photos of every accepted format, mutated, posted.

The one assertion is issue 30's bound (tests/support/bound.py): a 2xx or a 4xx in JSON within 10 s, the pod's
peak within 1.5 GB, /_/health answering all along, the next photo served. Not whether the answer is right:
test_hostile.py holds the cases whose answer is known.

FUZZ_DECODE_SECONDS bounds the run (120 in `make test`, 1200 in `make fuzz-decode`); FUZZ_DECODE_SEED replays
one (printed at the start; `make fuzz-decode` draws a fresh one). Each breaking input is kept in
build/fuzz-decode/ with what it broke, to post again by hand.
"""

from __future__ import annotations

import os
import random
import struct
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
from PIL import Image

from harness.processes import ROOT
from tests.support import bound, images
from tests.support.pod import Pod

SECONDS = float(os.environ.get("FUZZ_DECODE_SECONDS", "120"))
SEED = int(os.environ.get("FUZZ_DECODE_SEED", "30"))
FOUND = ROOT / "build" / "fuzz-decode"
GOOD_EVERY = 5  # a good photo after every few cases, and after any that broke the bound
SIZES = [0, 1, 2, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF]


def _photo(mode: str = "RGB") -> Image.Image:
    return images.photo("coffee").resize((96, 64)).convert(mode)


@cache
def seeds() -> dict[str, bytes]:
    """One small valid file of every format and variant the function accepts."""
    rgba = _photo("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((96, 64)))
    frames = [_photo().rotate(angle) for angle in (0, 90, 180)]
    return {
        "jpeg": images.jpeg(_photo()),
        "jpeg-progressive": images.jpeg(_photo(), progressive=True),
        "jpeg-cmyk": images.encode(_photo("CMYK"), "JPEG"),
        "png-rgb": images.encode(_photo(), "PNG"),
        "png-rgba": images.encode(rgba, "PNG"),
        "png-p": images.encode(_photo("P"), "PNG", transparency=0),
        "png-16": images.png16_rgb(_photo()),
        "webp-lossy": images.encode(_photo(), "WEBP"),
        "webp-lossless": images.encode(rgba, "WEBP", lossless=True),
        "webp-animated": images.animated("WEBP", frames),
        "gif": images.encode(_photo("P"), "GIF"),
        "gif-animated": images.animated("GIF", [frame.convert("P") for frame in frames]),
        "bmp": images.encode(_photo(), "BMP"),
        "tiff-raw": images.encode(_photo(), "TIFF"),
        "tiff-lzw": images.encode(_photo(), "TIFF", compression="tiff_lzw"),
        "tiff-deflate": images.encode(_photo(), "TIFF", compression="tiff_adobe_deflate"),
        "tiff-packbits": images.encode(_photo(), "TIFF", compression="packbits"),
        "tiff-jpeg": images.encode(_photo(), "TIFF", compression="jpeg"),
        "heif": images.heic(_photo()),
        "avif": images.encode(_photo(), "AVIF"),
    }


def _flip_bits(data: bytearray, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 16)):
        position = rng.randrange(len(data))
        data[position] ^= 1 << rng.randrange(8)


def _insert(data: bytearray, rng: random.Random) -> None:
    position = rng.randrange(len(data) + 1)
    data[position:position] = rng.randbytes(rng.randint(1, 64))


def _delete(data: bytearray, rng: random.Random) -> None:
    start = rng.randrange(len(data))
    del data[start : start + rng.randint(1, max(1, len(data) // 8))]


def _duplicate(data: bytearray, rng: random.Random) -> None:
    start = rng.randrange(len(data))
    piece = data[start : start + rng.randint(1, 512)]
    position = rng.randrange(len(data) + 1)
    data[position:position] = piece * rng.choice([1, 2, 16, 256])


def _size_field(data: bytearray, rng: random.Random) -> None:
    """A 2- or 4-byte integer, either byte order, set to a value sizes and lengths break at."""
    width, order = rng.choice([(2, ">H"), (2, "<H"), (4, ">I"), (4, "<I")])
    position = rng.randrange(max(1, len(data) - width))
    value = rng.choice(SIZES) & (0xFFFF if width == 2 else 0xFFFFFFFF)
    data[position : position + width] = struct.pack(order, value)


def _segments(data: bytes) -> list[tuple[int, int]]:
    """Where the container's pieces lie: PNG chunks, RIFF chunks, JPEG segments (before the scan), ISO boxes."""
    found: list[tuple[int, int]] = []
    if data.startswith(b"\x89PNG"):
        position, header = 8, 12
    elif data.startswith(b"RIFF"):
        position, header = 12, 8
    elif data.startswith(b"\xff\xd8"):
        position = 2
        while position + 4 <= len(data) and data[position] == 0xFF and data[position + 1] != 0xDA:
            end = position + 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]
            found.append((position, end))
            position = end
        return found
    else:
        position, header = 0, 8
    while position + header <= len(data):
        if data.startswith(b"\x89PNG"):
            end = position + 12 + struct.unpack(">I", data[position : position + 4])[0]
        elif data.startswith(b"RIFF"):
            size = struct.unpack("<I", data[position + 4 : position + 8])[0]
            end = position + 8 + size + size % 2
        else:  # ISO base media boxes (HEIF, AVIF): a big-endian size first
            end = position + max(8, struct.unpack(">I", data[position : position + 4])[0])
        if end > len(data):
            break
        found.append((position, end))
        position = end
    return found


def _repeat_segment(data: bytearray, rng: random.Random) -> None:
    pieces = _segments(bytes(data))
    if not pieces:
        _duplicate(data, rng)
        return
    start, end = rng.choice(pieces)
    data[end:end] = data[start:end] * rng.choice([1, 8, 100, 1000])


def _truncate(data: bytearray, rng: random.Random) -> None:
    del data[rng.randrange(1, len(data)) :]


MUTATIONS: list[Callable[[bytearray, random.Random], None]] = [
    _flip_bits, _insert, _delete, _duplicate, _size_field, _size_field, _repeat_segment, _truncate,
]  # fmt: skip


def mutant(rng: random.Random) -> tuple[str, bytes]:
    """A seed file with one to four mutations; its name and its bytes."""
    name = rng.choice(sorted(seeds()))
    data = bytearray(seeds()[name])
    for _ in range(rng.randint(1, 4)):
        if data:
            rng.choice(MUTATIONS)(data, rng)
    return name, bytes(data)


@pytest.fixture(scope="module")
def pod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pod]:
    started = Pod(tmp_path_factory.mktemp("fuzz-decode") / "server.log", {"REMBG_MODEL": "u2netp"})
    yield started
    started.stop()


def _keep(index: int, name: str, body: bytes, breaches: list[str]) -> Path:
    FOUND.mkdir(parents=True, exist_ok=True)
    path = FOUND / f"seed{SEED}-{index:05d}-{name}.bin"
    path.write_bytes(body)
    path.with_suffix(".txt").write_text("\n".join(breaches) + "\n")
    return path


def _next_photo_served(pod: Pod) -> bool:
    server = bound.recover(pod)
    return server.post(images.jpeg(_photo())).status_code == 200


def test_mutated_photos_keep_the_bound(pod: Pod) -> None:
    print(f"fuzz-decode: seed {SEED} (FUZZ_DECODE_SEED={SEED} replays it), {SECONDS:.0f} s, pod by {pod.measure}")
    rng = random.Random(SEED)
    deadline = time.monotonic() + SECONDS
    kept: list[str] = []
    index = 0
    while time.monotonic() < deadline:
        name, body = mutant(rng)
        trial = bound.attempt(pod, body, "/", {"Content-Type": "application/octet-stream"})
        breaches = trial.breaches()
        checked = breaches or index % GOOD_EVERY == 0
        if checked and not _next_photo_served(pod):
            breaches.append("the next photo was not served")
        if breaches:
            path = _keep(index, name, body, breaches)
            kept.append(f"{path.name}: {trial.row(name)} {'; '.join(breaches)}")
        index += 1
    print(f"fuzz-decode: {index} mutants, {len(kept)} broke the bound")
    assert index > 0
    assert not kept, "\n".join(kept)
