"""The decode worker: uploads read and decoded one job at a time, under limits the kernel enforces.

Forked from the zygote, it sets RLIMIT_AS once (its address space may grow by `memory_bytes`
from what it was forked with), then per job a CPU-time limit (RLIMIT_CPU: SIGXCPU) and a
real-time timer as a backstop (SIGALRM), both left at their default action, which ends the
process wherever it is, in C code too. CPU time is the limit because it is what an upload costs
whatever else runs on the node: a 50 MP PNG took 2.5 s of it, and 8.6 s of real time beside
other work. A MemoryError is reported as such; anything that kills the worker outright is read
by the model's process from how it ended (decoder.py). A worker whose resident memory has grown
past RETIRE_ABOVE_BYTES since it started retires after its answer, so what one large upload left
in its heap is not kept for the next.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import resource
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ApiError, CorruptImage, UnsupportedImage
from ..output.limits import PixelLimit
from ..picture.decode import open_image, read_pixels
from ..request.intake import LINE_BREAKS_LOST, stripped_of_line_breaks
from ..request.routes import route_for
from . import wire
from .shared import SharedPicture

PR_SET_PDEATHSIG = 1
RETIRE_ABOVE_BYTES = 64 * 1000 * 1000
MEMORY_ERROR = "decode_memory"
FAILED = "worker_failed"
DETAIL_CHARS = 500
CLEAR_PEAK = b"5"  # written to /proc/self/clear_refs: VmHWM starts again from VmRSS (Linux 4.0)
PACKAGE = __name__.split(".")[0]  # `function`, whose loggers' lines go back with the answer
MAX_LOG_LINES = 8


@dataclass(frozen=True)
class Job:
    """What the model's process asks: the route and request as received, and the limits to hold to."""

    path: str
    content_type: str | None
    query: dict[str, str]
    max_input_pixels: int
    max_pixels: int  # MAX_PIXELS
    cpu_seconds: float  # DECODE_SECONDS
    wall_seconds: float  # a backstop in real time, or what is left of the request's deadline if that is less
    body_bytes: int

    @classmethod
    def of(cls, header: dict[str, Any]) -> Job:
        return cls(**{name: header[name] for name in cls.__dataclass_fields__})


def serve(sock: socket.socket, memory_bytes: int) -> None:
    """Jobs from `sock` until the model's process closes it, or this worker retires."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # ends with the zygote, so none outlives a replaced one
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)
    address_space = _status("VmSize") + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    started_rss = _status("VmRSS")
    said = _Said()
    while True:
        said.lines.clear()
        try:
            job = Job.of(wire.receive(sock, 0).header)
        except wire.Broken:
            return
        _arm(job.cpu_seconds, job.wall_seconds)
        try:
            body = wire.receive(sock, job.body_bytes).payload
        except MemoryError:  # the rest of the body is still on its way: this worker cannot take the next job
            wire.send(sock, {"error": {"code": MEMORY_ERROR}, "peak_bytes": _status("VmHWM"), "retiring": True})
            return
        reply, sent, made = _answer(job, body)
        del body
        signal.setitimer(signal.ITIMER_REAL, 0)
        for picture in made:  # unmapped now, while the model's process waits: after the answer, tearing down
            picture.unmap()  # 12 MP of mappings ran beside its model's run and cost that run 25 ms
        fds = []
        if sent is not None:
            try:
                sent.seal()
                fds = [sent.fd]
            except OSError as exc:
                reply = {"error": {"code": FAILED, "detail": f"the picture could not be sealed: {exc}"}}
        retiring = _status("VmRSS") - started_rss > RETIRE_ABOVE_BYTES
        reply = {**reply, "peak_bytes": _status("VmHWM"), "retiring": retiring, "log": said.lines}
        wire.send(sock, reply, fds=fds)
        for picture in made:  # the pages live on in the model's process, through the descriptor it was sent
            os.close(picture.fd)
        if retiring:
            return


class _Said(logging.Handler):
    """What the function's code logs while a job is in work, for the model's process to log with the request."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[dict[str, Any]] = []
        logger = logging.getLogger(PACKAGE)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.lines) < MAX_LOG_LINES:
            message = record.getMessage()[:DETAIL_CHARS]
            self.lines.append({"level": record.levelno, "logger": record.name, "message": message})


def _answer(job: Job, body: bytes) -> tuple[dict[str, Any], SharedPicture | None, list[SharedPicture]]:
    """The reply, the shared picture it sends (if any), and every shared picture made on the way."""
    made: list[SharedPicture] = []
    sent = None
    try:
        reply, sent = _decoded(job, body, made)
    except ApiError as error:
        route = route_for(job.path)
        error_reply = {"status": error.status, "code": error.code, "message": error.message}
        reply = {"error": {**error_reply, "body": route.error(error).decode("utf-8")}}
    except MemoryError:
        reply = {"error": {"code": MEMORY_ERROR}}
    except Exception as exc:  # a fault of ours, not the upload's: the model's process logs it with the call
        reply = {"error": {"code": FAILED, "detail": f"{exc.__class__.__name__}: {exc}"[:DETAIL_CHARS]}}
    return reply, sent, made


def _decoded(job: Job, body: bytes, made: list[SharedPicture]) -> tuple[dict[str, Any], SharedPicture]:
    route = route_for(job.path)
    request = route.read(body, job.content_type, job.query)
    options = request.options
    limit = PixelLimit.of(job.max_pixels, options)

    def allocate(mode: str, size: tuple[int, int]) -> Any:
        made.append(SharedPicture(mode, size))
        return made[-1].image

    try:
        image = open_image(request.image, job.max_input_pixels)
        limit.check_source(image.size)
        pixels = read_pixels(image, limit.picture, allocate)
    except (CorruptImage, UnsupportedImage):
        if request.raw and stripped_of_line_breaks(request.image):
            raise CorruptImage(LINE_BREAKS_LOST.format(part=route.file_fields[0])) from None
        raise
    shared = next((picture for picture in reversed(made) if picture.holds(pixels.image)), None)
    if shared is None:  # a plugin decoded into a buffer of its own
        shared = SharedPicture(pixels.image.mode, pixels.image.size)
        made.append(shared)
        shared.image.paste(pixels.image)
    picture = {
        "mode": shared.mode,
        "size": list(shared.size),
        "format": pixels.format,
        "source_size": list(pixels.source_size),
        "orientation": pixels.orientation,
    }
    return {"picture": picture, "options": wire.options_to_json(options), "ignored": list(request.ignored)}, shared


def _arm(cpu_seconds: float, wall_seconds: float) -> None:
    """This job's time: SIGXCPU past `cpu_seconds` of CPU time (all its threads'), SIGALRM past `wall_seconds`
    of real time, both left at their default action (the process ends); and its own peak, from here."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = max(1, round(used.ru_utime + used.ru_stime + cpu_seconds))  # the kernel counts whole seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, resource.getrlimit(resource.RLIMIT_CPU)[1]))
    signal.setitimer(signal.ITIMER_REAL, wall_seconds)
    with contextlib.suppress(OSError):  # where /proc refuses it, the peak is the worker's since it started
        Path("/proc/self/clear_refs").write_bytes(CLEAR_PEAK)


def _status(field: str) -> int:
    """A size from /proc/self/status (VmSize, VmRSS, VmHWM), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")
