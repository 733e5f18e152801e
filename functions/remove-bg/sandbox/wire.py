"""Messages between the model's process and a decode worker: a JSON header, bytes after it, descriptors beside it.

Nothing is pickled: the worker has parsed hostile bytes and may be anything by the time it
answers, so the model's process reads only JSON of a known shape from it, and numbers it checks.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..request.options import Length, Margin, Options

PREFIX = struct.Struct(">I")
MAX_HEADER_BYTES = 1 << 20  # a header is a few hundred bytes; a field's value is never echoed whole
MAX_FDS = 2
CHUNK = 1 << 20


class Broken(Exception):
    """The other side closed, sent something that is not a message, or did not answer in time."""


@dataclass(frozen=True)
class Message:
    header: dict[str, Any]
    payload: bytes = b""
    fds: list[int] = field(default_factory=list)


def send(sock: socket.socket, header: dict[str, Any], payload: bytes = b"", fds: Sequence[int] = ()) -> None:
    head = json.dumps({**header, "payload_bytes": len(payload)}).encode("utf-8")
    prefix = PREFIX.pack(len(head))
    if fds:
        socket.send_fds(sock, [prefix], list(fds))
    else:
        sock.sendall(prefix)
    sock.sendall(head)
    if payload:
        sock.sendall(payload)


def receive(sock: socket.socket, max_payload: int) -> Message:
    """One message; Broken when the peer closes first, or sends a header or payload over its bound."""
    try:
        start, fds, _, _ = socket.recv_fds(sock, PREFIX.size, MAX_FDS)
        prefix = start + _exactly(sock, PREFIX.size - len(start)) if start else b""
        if len(prefix) < PREFIX.size:
            raise Broken("closed before a message")
        (length,) = PREFIX.unpack(prefix)
        if length > MAX_HEADER_BYTES:
            raise Broken(f"a header of {length} bytes")
        header = json.loads(_exactly(sock, length))
        size = header.get("payload_bytes") if isinstance(header, dict) else None
        if not isinstance(size, int) or not 0 <= size <= max_payload:
            raise Broken("a message without a payload size within its bound")
        return Message(header, _exactly(sock, size), fds)
    except (OSError, ValueError) as exc:  # socket.timeout is an OSError
        raise Broken(f"{exc.__class__.__name__}: {exc}") from None


def _exactly(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        count = sock.recv_into(view[got:], min(CHUNK, size - got))
        if count == 0:
            raise Broken(f"closed after {got} of {size} bytes")
        got += count
    return bytes(buffer)


def options_to_json(options: Options) -> dict[str, Any]:
    return asdict(options)


def options_from_json(found: dict[str, Any]) -> Options:
    """Options from the worker's JSON, rebuilt field by field (a wrong shape is a TypeError or KeyError)."""
    margin = found["margin"]
    return Options(
        format=found["format"],
        quality=found["quality"],
        bg_color=None if found["bg_color"] is None else _ints(found["bg_color"], 4),
        crop=bool(found["crop"]),
        margin=Margin(*(Length(float(margin[side]["value"]), bool(margin[side]["percent"])) for side in _SIDES)),
        only_mask=bool(found["only_mask"]),
        max_pixels=found["max_pixels"],
        target_size=None if found["target_size"] is None else _ints(found["target_size"], 2),
        vertical_alignment=found["vertical_alignment"],
    )


_SIDES = ("top", "right", "bottom", "left")


def _ints(values: list[Any], count: int) -> Any:
    if len(values) != count or not all(isinstance(value, int) for value in values):
        raise TypeError(f"expected {count} whole numbers")
    return tuple(values)
