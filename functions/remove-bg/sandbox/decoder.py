"""The model's side of the sandbox: each upload to a worker, the picture back mapped, a breach answered as a 4xx.

One zygote and its worker per request in flight, started before the function reports ready; a
worker that breaks a limit is gone by the time its breach is answered, and the zygote has forked
the next one, so the next request is served as if nothing happened. A zygote that dies or stops
answering is replaced. How a worker ended decides the answer: its own report (the
picture, a client error in the route's shape, a MemoryError), else the signal that ended it
(SIGXCPU: its CPU time; SIGALRM: its real-time backstop, or the request's deadline; any other,
SIGKILL from the kernel's OOM killer included: the decoder crashed).

The worker has parsed hostile bytes and may be anything by the time it answers: what comes back
is JSON of a known shape whose every value is checked, read within one deadline for the whole
message, and a picture only from a memfd sealed against change.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from .. import metrics
from ..deadline import Deadline
from ..errors import DeadlineExceeded, DecodeCrashed, DecodeMemory, DecoderRestarting, DecodeTimeout
from ..picture.decode import Picture, Pixels, upright
from ..request.options import Options
from ..request.routes import MAX_IGNORED_NAMES
from . import wire, worker, zygote
from .shared import map_picture

log = logging.getLogger(__name__)

START_SECONDS = 60.0  # a zygote imports Pillow, pillow-heif and Werkzeug: about half a second
GRACE_SECONDS = 2.0  # past the worker's own timer, for it to end and the zygote to say so
MMAP_THRESHOLD_BYTES = 256 * 1024
LOGGED_CHARS = 1000
PASSED_ON = ("PATH", "LANG", "LC_ALL", "TZ", "PYTHONHASHSEED")
# A worker's real-time backstop, as a multiple of its CPU time: single-threaded decoders spend one CPU
# second a second; this leaves room for a pod sharing its CPUs, and still ends a worker that waits.
WALL_PER_CPU_SECOND = 2.0
MEANINGS = {signal.SIGXCPU: "time", signal.SIGALRM: "time"}


@dataclass(frozen=True)
class Limits:
    memory_bytes: int  # DECODE_MEMORY_BYTES: how far a worker's address space may grow
    seconds: float  # DECODE_SECONDS: its CPU time for one upload
    max_input_pixels: int
    max_pixels: int


@dataclass(frozen=True)
class Decoded:
    picture: Picture
    options: Options
    peak_bytes: int  # the worker's peak resident memory
    ignored: tuple[str, ...] = ()  # the fields a compatible route ignored, as X-Ignored-Fields names them


class Answered(Exception):
    """A client error the worker found and shaped in the route's own form: status, code, message, body."""

    def __init__(self, status: int, code: str, message: str, body: bytes) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.body = status, code, message, body


class Decoder:
    """Started with its first zygote on its way (it imports while the model loads); ready() waits for it."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._closed = False
        self._starting: _Sandbox | None = _Sandbox.launch(limits.memory_bytes)
        self._idle: list[_Sandbox] = []

    def ready(self) -> None:
        """Wait for the first zygote and its worker; RuntimeError if the zygote could not start."""
        starting, self._starting = self._starting, None
        if starting is not None:
            starting.wait_ready()
            self._idle.append(starting)

    def read(
        self,
        path: str,
        content_type: str | None,
        query: Mapping[str, str],
        body: bytes,
        deadline: Deadline,
        *,
        call_id: str,
    ) -> Decoded:
        """The upload's picture and options; ApiError or Answered for what the client sent, a breach included.

        What the worker logged is logged here with `call_id`, the request's, so that an operator finds a
        request's decoder lines (a broken file's own words) by the id its answer carried in X-Call-Id."""
        wall = min(self.limits.seconds * WALL_PER_CPU_SECOND, deadline.remaining())
        if wall <= 0:
            raise DeadlineExceeded("decode", deadline.seconds)
        job = worker.Job(
            path=path,
            content_type=content_type,
            query=dict(query),
            max_input_pixels=self.limits.max_input_pixels,
            max_pixels=self.limits.max_pixels,
            cpu_seconds=self.limits.seconds,
            wall_seconds=wall,
            body_bytes=len(body),
        )
        sandbox = self._take()
        reply, ended, healthy = None, None, False
        try:
            reply, ended, healthy = sandbox.run(asdict(job), body, wall + GRACE_SECONDS)
        finally:
            self._give_back(sandbox, healthy)
        if reply is not None:
            return self._answer(reply, call_id)
        return self._breach(ended, wall < self.limits.seconds * WALL_PER_CPU_SECOND, deadline, call_id)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            if self._starting is not None:
                idle.append(self._starting)
                self._starting = None
        for sandbox in idle:
            sandbox.stop()

    def _take(self) -> _Sandbox:
        if self._starting is not None:  # start() waits for it; a caller that did not, waits here
            self.ready()
        with self._lock:
            while self._idle:
                sandbox = self._idle.pop()
                if sandbox.alive():
                    return sandbox
                log.warning("a decode zygote had ended (exit code %s); starting another", sandbox.exit_code())
                sandbox.stop()
        return _Sandbox.launch(self.limits.memory_bytes).wait_ready()

    def _give_back(self, sandbox: _Sandbox, healthy: bool) -> None:
        if healthy and sandbox.alive():
            with self._lock:
                if not self._closed:
                    self._idle.append(sandbox)
                    return
        sandbox.stop()

    def _answer(self, reply: wire.Message, call_id: str) -> Decoded:
        header = reply.header
        try:
            _log_what_it_said(header.get("log", []), call_id)
            peak_bytes = int(header.get("peak_bytes", 0))
            metrics.decode_done(peak_bytes)
            if "picture" in header:
                picture = self._picture(header["picture"], reply.fds)
                options = wire.options_from_json(header["options"])
                ignored = wire.names_from_json(header["ignored"], MAX_IGNORED_NAMES)
                return Decoded(picture, options, peak_bytes, ignored)
            error = header["error"]
            code = error["code"]
            answered = None if code in (worker.MEMORY_ERROR, worker.FAILED) else _client_error(error)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RuntimeError(f"the decode worker answered out of shape: {exc!r}") from None
        finally:
            for fd in reply.fds:
                os.close(fd)
        if code == worker.MEMORY_ERROR:
            metrics.decode_breach("memory")
            raise DecodeMemory(self._memory_message())
        if answered is None:
            raise RuntimeError(f"the decode worker failed: {str(error.get('detail'))[:LOGGED_CHARS]}")
        raise answered

    def _picture(self, found: dict, fds: list[int]) -> Picture:
        mode, size = found["mode"], _pair(found["size"])
        if len(fds) != 1 or size[0] * size[1] > self.limits.max_pixels:
            raise ValueError("no picture, or one larger than MAX_PIXELS")
        pixels = Pixels(
            image=map_picture(fds[0], mode, size),
            format=str(found["format"])[:16],
            source_size=_pair(found["source_size"]),
            orientation=int(found["orientation"]),
        )
        return upright(pixels)

    def _breach(self, ended: _Ended | None, deadline_first: bool, deadline: Deadline, call_id: str) -> Decoded:
        if ended is not None:
            metrics.decode_done(ended.peak_bytes)
        code = None if ended is None else ended.exit_code
        meaning = MEANINGS.get(-code) if code is not None and code < 0 else None
        if meaning == "time" and deadline_first and -code == signal.SIGALRM:
            metrics.decode_breach("deadline")
            raise DeadlineExceeded("decode", deadline.seconds)
        if meaning == "time":
            metrics.decode_breach("time")
            raise DecodeTimeout(
                f"decoding this upload took longer than DECODE_SECONDS={self.limits.seconds:g} s of CPU time allows"
                " (a 50 MP photo takes 1 to 3): send a plainer encoding (a baseline JPEG, say) or a smaller image"
            )
        if code == zygote.WORKER_FAILED:  # our fault, not the upload's
            raise RuntimeError("the decode worker failed outside its answer (the server's log has its traceback)")
        if code is None:  # not the upload's doing: the zygote is started again for the next request
            log.warning("the decode zygote stopped answering; the request is answered 503", extra=_of(call_id))
            raise DecoderRestarting("the decoder is restarting; retry")
        metrics.decode_breach("crash")
        how = signal.Signals(-code).name if code < 0 else f"exit code {code}"
        peak = 0 if ended is None else ended.peak_bytes
        log.warning(
            "the decode worker ended without an answer (%s), peak %d MB", how, peak // 1_000_000, extra=_of(call_id)
        )
        raise DecodeCrashed(
            f"the image could not be decoded within this function's limits (the decoder stopped: {how}); it is"
            f" corrupt, or needs more memory than DECODE_MEMORY_BYTES={self.limits.memory_bytes} bytes allows"
        )

    def _memory_message(self) -> str:
        return (
            f"decoding this upload needs more memory than DECODE_MEMORY_BYTES={self.limits.memory_bytes} bytes"
            " allows; send a smaller or simpler image"
        )


@dataclass(frozen=True)
class _Ended:
    exit_code: int  # os.waitstatus_to_exitcode: negative for a signal
    peak_bytes: int


class _Sandbox:
    """One zygote, its control socket, and the socket of the worker it forked last; one request at a time."""

    def __init__(self, proc: subprocess.Popen[bytes], control: socket.socket) -> None:
        self._proc, self._control = proc, control
        self._worker: socket.socket | None = None

    @classmethod
    def launch(cls, memory_bytes: int) -> _Sandbox:
        """A zygote on its way: it answers READY once it has imported what its workers need."""
        ours, theirs = socket.socketpair()
        env = {  # nothing of the pod's own environment (its settings, its token's path): only what Python needs
            **{name: os.environ[name] for name in PASSED_ON if name in os.environ},
            "PYTHONPATH": os.pathsep.join(path for path in sys.path if path),
            # No 64 MB arena reservations per decoder thread under RLIMIT_AS, and every large buffer its own
            # mapping, returned when freed, so a worker keeps no heap high-water mark from one upload to the next.
            "MALLOC_ARENA_MAX": "1",
            "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD_BYTES),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", zygote.__name__, str(theirs.fileno()), str(memory_bytes)],
            pass_fds=(theirs.fileno(),),
            env=env,
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        return cls(proc, ours)

    def wait_ready(self) -> _Sandbox:
        self._control.settimeout(START_SECONDS)
        try:
            ready = self._control.recv(1)
        except OSError:
            ready = b""
        if ready != zygote.READY:
            self._proc.kill()
            self._proc.wait()
            self._control.close()
            raise RuntimeError(f"the decode zygote did not start (exit code {self._proc.poll()})")
        self._fork()
        return self

    def alive(self) -> bool:
        return self._proc.poll() is None

    def exit_code(self) -> int | None:
        return self._proc.poll()

    def run(self, job: dict, body: bytes, seconds: float) -> tuple[wire.Message | None, _Ended | None, bool]:
        """The worker's reply (None if it sent none); how it ended, if it did (None if the zygote did not say);
        and whether this sandbox may take the next job."""
        try:
            if self._worker is None or self._worker_ended_while_idle():
                self._fork()
        except OSError:  # the zygote has gone
            return None, None, False
        assert self._worker is not None
        reply = None
        until = time.monotonic() + seconds
        try:
            self._worker.settimeout(seconds)
            wire.send(self._worker, job)
            wire.send(self._worker, {}, body)
        except OSError as exc:  # it stopped reading: it may still have answered why before it went
            log.debug("the decode worker took no more of the body: %s", exc)
        try:
            reply = wire.receive(self._worker, 0, until)
        except wire.Broken as exc:
            log.debug("no answer from the decode worker: %s", exc)
        if reply is not None and not reply.header.get("retiring"):
            return reply, None, True
        ended = self._ended(GRACE_SECONDS if reply is not None else max(0.0, until - time.monotonic()) + GRACE_SECONDS)
        if ended is None:
            return reply, None, False
        try:
            self._fork()  # the next worker, ready for the next request
        except OSError:
            return reply, ended, False
        return reply, ended, True

    def _worker_ended_while_idle(self) -> bool:
        """True if a report waits already: the worker died between jobs (the OOM killer, say), not in this one."""
        self._control.setblocking(False)
        try:
            waiting = self._control.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return False
        finally:
            self._control.setblocking(True)
        if not waiting:
            raise OSError("the zygote has gone")
        ended = self._ended(GRACE_SECONDS)
        log.warning("the idle decode worker had ended (%s); forking another", ended)
        return True

    def _fork(self) -> None:
        """A new worker from the zygote, on a socket of its own; OSError when the zygote has gone."""
        ours, theirs = socket.socketpair()
        try:
            socket.send_fds(self._control, [zygote.FORK], [theirs.fileno()])
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        self._worker = ours

    def _ended(self, seconds: float) -> _Ended | None:
        """How the worker ended, once it has: its socket is closed first, so a live one stops at its next read."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        self._control.settimeout(seconds)
        try:
            data = b""
            while len(data) < zygote.ENDED.size:
                chunk = self._control.recv(zygote.ENDED.size - len(data))
                if not chunk:
                    return None
                data += chunk
        except OSError:
            return None
        _, exit_code, peak_kib = zygote.ENDED.unpack(data)
        return _Ended(exit_code, peak_kib * 1024)

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.close()
        self._control.close()
        try:
            self._proc.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def _log_what_it_said(lines: list, call_id: str) -> None:
    """The worker's log lines (the decoder's own words about a broken file), logged here with the request's id."""
    for line in lines[: worker.MAX_LOG_LINES]:
        name, level = str(line["logger"]), int(line["level"])
        if name.startswith(worker.PACKAGE + ".") and level in (logging.INFO, logging.WARNING):
            said = str(line["message"])[:LOGGED_CHARS]
            logging.getLogger(name).log(level, "%s", said, extra=_of(call_id))


def _of(call_id: str) -> dict[str, dict[str, str]]:
    """A log line's `extra` that names the request it is about (logs.py writes `fields` as its keys)."""
    return {"fields": {"call_id": call_id}}


def _client_error(error: dict) -> Answered:
    status = int(error["status"])
    if not 400 <= status < 500:
        raise ValueError(f"a client error with status {status}")
    return Answered(status, str(error["code"])[:64], str(error["message"]), str(error["body"]).encode())


def _pair(values: list) -> tuple[int, int]:
    width, height = (int(value) for value in values)
    if width < 1 or height < 1:
        raise ValueError("a size of no pixels")
    return (width, height)
