"""The zygote: a small process that forks decode workers and reports how each ended.

Started by the model's process with one end of a socket pair (its descriptor number and the
workers' memory limit as arguments). Single-threaded, so fork() is safe in it; it imports the
decoders and the routes once, so a worker starts warm in a few milliseconds, with nothing of the
model's process in it.

The model's process sends one byte with a socket beside it; the zygote forks a worker that
serves jobs on that socket (worker.py), waits for it to end, and answers with its exit status
and peak resident memory (from wait4, which the kernel keeps even for a worker killed outright).
The zygote exits when the model's process closes its end, or dies (the socket's end of file).
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import struct
import sys

from . import worker

log = logging.getLogger(__name__)

# pid, wait status as os.waitstatus_to_exitcode gives it (a negative signal number), peak RSS in KiB
ENDED = struct.Struct(">iiq")
READY = b"R"
FORK = b"F"
WORKER_FAILED = 70  # EX_SOFTWARE: the worker raised what it does not answer


def main(control_fd: int, memory_bytes: int) -> int:
    # No PR_SET_PDEATHSIG here: it fires when the *thread* that started this process ends (the server's
    # start-up thread does), not its process. The control socket's end of file says the model's process
    # has gone, and a worker at work is ended by its own timer first.
    # A terminal's Ctrl-C reaches the whole process group; the model's process decides when this one ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control = socket.socket(fileno=control_fd)
    gc.freeze()  # what is here now is never collected: a worker's collections leave these pages shared
    try:
        control.sendall(READY)
    except OSError:  # the model's process has gone already (a model that would not load, say)
        return 0
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1, 1)
        except OSError:
            return 0
        if message != FORK or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            return 0 if not message else 2
        pid = os.fork()
        if pid == 0:
            control.close()
            os._exit(_run(fds[0], memory_bytes))
        os.close(fds[0])
        _, status, usage = os.wait4(pid, 0)
        try:
            control.sendall(ENDED.pack(pid, os.waitstatus_to_exitcode(status), usage.ru_maxrss))
        except OSError:  # the model's process has gone
            return 0


def _run(fd: int, memory_bytes: int) -> int:
    try:
        with socket.socket(fileno=fd) as sock:
            worker.serve(sock, memory_bytes)
        return 0
    except Exception:
        log.exception("the decode worker failed")
        return WORKER_FAILED


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
