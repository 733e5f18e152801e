"""The sandbox for real: a zygote and its workers as processes, limits the kernel enforces, pixels in shared memory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from function.deadline import Deadline
from function.errors import DeadlineExceeded, DecodeCrashed, DecodeMemory, DecodeTimeout
from function.picture.decode import decode
from function.request.options import Options
from function.sandbox import wire
from function.sandbox.decoder import Answered, Decoder, Limits
from function.sandbox.shared import SharedPicture, map_picture
from tests.support import images

MP = 1_000_000
LIMITS = Limits(memory_bytes=700 * MP, seconds=5.0, max_input_pixels=50 * MP, max_pixels=25 * MP)
PHOTO = images.photo("chelsea")
CALL_ID = "test-sandbox"


@pytest.fixture
def decoder() -> Iterator[Decoder]:
    made = Decoder(LIMITS)
    made.ready()
    yield made
    made.close()


def _read(decoder: Decoder, body: bytes, path: str = "/", content_type: str = "application/octet-stream"):
    return decoder.read(path, content_type, {}, body, Deadline(30), call_id=CALL_ID)


def _same(a: Image.Image | None, b: Image.Image | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.mode == b.mode and a.size == b.size and np.array_equal(np.asarray(a), np.asarray(b))


BODIES = {
    "jpeg": lambda: images.jpeg(PHOTO),
    "jpeg turned (EXIF 6)": lambda: images.jpeg_with_orientation(PHOTO, 6),
    "png rgb": lambda: images.encode(PHOTO, "PNG"),
    "png rgba": lambda: images.encode(PHOTO.convert("RGBA"), "PNG"),
    "png rgba half transparent": lambda: images.encode(
        Image.merge("RGBA", (*PHOTO.split(), PHOTO.convert("L"))), "PNG"
    ),
    "png palette": lambda: images.encode(PHOTO.convert("P"), "PNG"),
    "png 16-bit gray": lambda: images.png16_gray(PHOTO),
    "webp lossy": lambda: images.encode(PHOTO, "WEBP", quality=80),
    "webp lossless rgba": lambda: images.encode(PHOTO.convert("RGBA"), "WEBP", lossless=True),
    "gif": lambda: images.encode(PHOTO.convert("P"), "GIF"),
    "bmp": lambda: images.encode(PHOTO, "BMP"),
    "tiff": lambda: images.encode(PHOTO, "TIFF", compression="tiff_lzw"),
    "heic": lambda: images.heic(PHOTO),
    "avif": lambda: images.encode(PHOTO, "AVIF"),
    "over max_pixels (scaled in the worker)": lambda: images.jpeg(PHOTO.resize((2000, 1330))),
}


@pytest.mark.parametrize("name", BODIES)
def test_a_picture_decoded_in_the_worker_is_the_one_decoded_here(name: str) -> None:
    body = BODIES[name]()
    limits = Limits(LIMITS.memory_bytes, LIMITS.seconds, LIMITS.max_input_pixels, max_pixels=1_000_000)
    sandboxed = Decoder(limits)
    try:
        there = sandboxed.read("/", "image/x", {}, body, Deadline(30), call_id=CALL_ID).picture
    finally:
        sandboxed.close()
    here = decode(body, limits.max_input_pixels, limits.max_pixels)
    assert (there.format, there.source_size) == (here.format, here.source_size)
    assert _same(there.rgb, here.rgb), name
    assert _same(there.alpha, here.alpha), name


def test_the_options_and_a_route_s_own_error_shape_come_back(decoder: Decoder) -> None:
    body = images.jpeg(PHOTO)
    form = b'--b\r\nContent-Disposition: form-data; name="crop"\r\n\r\ntrue\r\n--b\r\n' + (
        b'Content-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        + body
        + b"\r\n--b--\r\n"
    )
    form_type = "multipart/form-data; boundary=b"
    decoded = decoder.read("/remove-background", form_type, {"margin": "5%"}, form, Deadline(30), call_id=CALL_ID)
    assert decoded.options.crop and str(decoded.options.margin) == "5% 5% 5% 5%"
    with pytest.raises(Answered) as refused:
        json_body = b'{"bg_color": "nope", "image_file_b64": "AA=="}'
        decoder.read("/v1.0/removebg", "application/json", {}, json_body, Deadline(30), call_id=CALL_ID)
    assert refused.value.status == 400
    assert b'"invalid_bg_color"' in refused.value.body  # remove.bg's own code, in its own shape


def test_a_worker_past_its_memory_is_a_413_and_the_next_upload_is_served() -> None:
    small = Decoder(Limits(memory_bytes=60 * MP, seconds=5.0, max_input_pixels=50 * MP, max_pixels=25 * MP))
    try:
        with pytest.raises(DecodeMemory, match="DECODE_MEMORY_BYTES=60000000"):
            _read(small, images.encode(PHOTO.resize((6000, 4000)), "PNG", compress_level=0))
        assert _read(small, images.jpeg(PHOTO)).picture.rgb.size == PHOTO.size
    finally:
        small.close()


def test_a_worker_past_its_time_is_a_422_and_the_next_upload_is_served() -> None:
    quick = Decoder(Limits(memory_bytes=700 * MP, seconds=0.05, max_input_pixels=50 * MP, max_pixels=25 * MP))
    slow = images.slow_png()
    try:
        started = time.monotonic()
        with pytest.raises(DecodeTimeout, match=r"DECODE_SECONDS=0\.05"):
            _read(quick, slow)
        assert time.monotonic() - started < 3  # the worker's own timer, not the parent's grace
        assert _read(quick, images.jpeg(PHOTO.resize((64, 48)))).picture.rgb.size == (64, 48)
    finally:
        quick.close()


def test_the_request_s_deadline_stops_a_decode_it_comes_before(decoder: Decoder) -> None:
    slow = images.slow_png()
    with pytest.raises(DeadlineExceeded, match=r"REQUEST_SECONDS=0\.05 s"):
        decoder.read("/", None, {}, slow, Deadline(0.05), call_id=CALL_ID)
    assert _read(decoder, images.jpeg(PHOTO)).picture.rgb.size == PHOTO.size


def _descendants(pid: int) -> list[int]:
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found += [int(child), *_descendants(int(child))]
    return found


def _kill_worker_while_it_works(decoder: Decoder, body: bytes, how: signal.Signals) -> BaseException | None:
    caught: list[BaseException | None] = [None]

    def read() -> None:
        try:
            _read(decoder, body)
        except BaseException as exc:  # handed to the test
            caught[0] = exc

    zygotes = [
        pid for pid in _descendants(os.getpid()) if b"sandbox.zygote" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    ours = [pid for pid in zygotes if _parent(pid) == os.getpid()]
    thread = threading.Thread(target=read)
    thread.start()
    time.sleep(0.3)  # the worker is decoding by now
    for zygote in ours:
        for worker in _descendants(zygote):
            os.kill(worker, how)
    thread.join(30)
    return caught[0]


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().split()[3])


def test_a_worker_that_crashes_is_a_422_and_the_next_upload_is_served(decoder: Decoder, caplog) -> None:
    slow = images.slow_png()
    error = _kill_worker_while_it_works(decoder, slow, signal.SIGSEGV)
    assert isinstance(error, DecodeCrashed), error
    assert "SIGSEGV" in str(error)
    (said,) = [record for record in caplog.records if "ended without an answer" in record.getMessage()]
    assert getattr(said, "fields", None) == {"call_id": CALL_ID}, (
        "the operator finds the request's line by its X-Call-Id"
    )
    assert _read(decoder, images.jpeg(PHOTO)).picture.rgb.size == PHOTO.size


def test_a_zygote_that_died_is_replaced(decoder: Decoder) -> None:
    assert _read(decoder, images.jpeg(PHOTO)).picture.rgb.size == PHOTO.size
    zygotes = [
        pid for pid in _descendants(os.getpid()) if b"sandbox.zygote" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert zygotes
    for pid in zygotes:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert _read(decoder, images.jpeg(PHOTO)).picture.rgb.size == PHOTO.size


def test_no_worker_outlives_its_decoder() -> None:
    made = Decoder(LIMITS)
    _read(made, images.jpeg(PHOTO))
    spawned = _descendants(os.getpid())
    assert len(spawned) >= 2  # a zygote and its worker
    made.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and _running(pid) for pid in spawned):
        time.sleep(0.05)
    assert not [pid for pid in spawned if Path(f"/proc/{pid}").exists() and _running(pid)]


def _running(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


# --- what the model's process trusts of a worker that may have been taken over by what it parsed ----------


def test_only_a_sealed_picture_is_mapped_and_a_sealed_one_cannot_be_cut_short() -> None:
    """An unsealed memfd can be truncated after its size was checked: reading it then killed the server (SIGBUS)."""
    picture = SharedPicture("RGB", (64, 48))
    picture.unmap()
    with pytest.raises(ValueError, match="not sealed"):
        map_picture(picture.fd, "RGB", (64, 48))
    picture.seal()
    assert map_picture(picture.fd, "RGB", (64, 48)).size == (64, 48)
    with pytest.raises(PermissionError):
        os.ftruncate(picture.fd, 0)
    os.close(picture.fd)


def test_a_worker_that_trickles_its_answer_is_cut_at_the_deadline() -> None:
    ours, theirs = socket.socketpair()
    message = json.dumps({"payload_bytes": 0}).encode()
    frame = wire.PREFIX.pack(len(message)) + message

    def trickle() -> None:
        for byte in frame:
            time.sleep(0.1)
            with contextlib.suppress(OSError):
                theirs.send(bytes([byte]))

    threading.Thread(target=trickle, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(wire.Broken):
        wire.receive(ours, 0, time.monotonic() + 0.5)
    assert time.monotonic() - started < 1.0
    ours.close()
    theirs.close()


def test_a_header_nested_past_the_parser_s_stack_is_broken_not_a_crash() -> None:
    ours, theirs = socket.socketpair()
    nested = b"[" * 60_000 + b"]" * 60_000
    theirs.sendall(wire.PREFIX.pack(len(nested)) + nested)
    with pytest.raises(wire.Broken):
        wire.receive(ours, 0, time.monotonic() + 5)
    ours.close()
    theirs.close()


@pytest.mark.parametrize(
    "change",
    [{"format": "x"}, {"quality": 1000}, {"crop": 1}, {"bg_color": [0, 0, 0, 256]}, {"target_size": [0, 5]}],
    ids=["format", "quality", "crop", "bg_color", "target_size"],
)
def test_options_out_of_shape_from_a_worker_are_refused(change: dict) -> None:
    found = wire.options_to_json(Options())
    assert wire.options_from_json(found) == Options()
    with pytest.raises(ValueError):
        wire.options_from_json({**found, **change})


def test_a_worker_killed_while_idle_costs_the_next_request_nothing(decoder: Decoder) -> None:
    """The zygote's report of an idle worker's end was once read as the next request's own: a 422 for a photo."""
    assert _read(decoder, images.jpeg(PHOTO)).picture.rgb.size == PHOTO.size
    zygotes = [pid for pid in _descendants(os.getpid()) if _parent(pid) == os.getpid()]
    for zygote in zygotes:
        for worker in _descendants(zygote):
            os.kill(worker, signal.SIGKILL)
    time.sleep(0.3)
    assert _read(decoder, images.jpeg(PHOTO)).picture.rgb.size == PHOTO.size
