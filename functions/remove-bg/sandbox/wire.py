"""Messages between the model's process and a decode worker: a JSON header, bytes after it, descriptors beside it.

Nothing is pickled: the worker has parsed hostile bytes and may be anything by the time it
answers, so the model's process reads only JSON of a known shape from it, and numbers it checks.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, get_args

from ..headers import is_field_name
from ..output.limits import MAX_SIDE
from ..request.options import MAX_MARGIN_PX, Alignment, Format, Length, Margin, Options, conflict

PREFIX = struct.Struct(">I")
MAX_HEADER_BYTES = 64 * 1024  # a header is a few hundred bytes (eight log lines of 500 characters at most)
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


def receive(sock: socket.socket, max_payload: int, until: float | None = None) -> Message:
    """One message, whole by `until` (time.monotonic(); None: no deadline); Broken when the peer closes first,
    is late, or sends a header or payload over its bound."""
    try:
        _wait_until(sock, until)
        start, fds, _, _ = socket.recv_fds(sock, PREFIX.size, MAX_FDS)
        prefix = start + _exactly(sock, PREFIX.size - len(start), until) if start else b""
        if len(prefix) < PREFIX.size:
            raise Broken("closed before a message")
        (length,) = PREFIX.unpack(prefix)
        if length > MAX_HEADER_BYTES:
            raise Broken(f"a header of {length} bytes")
        header = json.loads(_exactly(sock, length, until))
        size = header.get("payload_bytes") if isinstance(header, dict) else None
        if not isinstance(size, int) or not 0 <= size <= max_payload:
            raise Broken("a message without a payload size within its bound")
        return Message(header, _exactly(sock, size, until), fds)
    except (OSError, ValueError, RecursionError) as exc:  # socket.timeout is an OSError
        raise Broken(f"{exc.__class__.__name__}: {exc}") from None


def _wait_until(sock: socket.socket, until: float | None) -> None:
    """The socket's timeout set to what is left before `until`: a peer that trickles cannot stretch a message."""
    if until is not None:
        left = until - time.monotonic()
        if left <= 0:
            raise TimeoutError("the message was not whole in time")
        sock.settimeout(left)


def _exactly(sock: socket.socket, size: int, until: float | None) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        _wait_until(sock, until)
        count = sock.recv_into(view[got:], min(CHUNK, size - got))
        if count == 0:
            raise Broken(f"closed after {got} of {size} bytes")
        got += count
    return bytes(buffer)


def options_to_json(options: Options) -> dict[str, Any]:
    return asdict(options)


def options_from_json(found: dict[str, Any]) -> Options:
    """Options from the worker's JSON, rebuilt and checked field by field (a wrong shape is a ValueError)."""
    margin = found["margin"]
    options = Options(
        format=_one_of(found["format"], get_args(Format)),
        quality=_whole_or_none(found["quality"], 1, 100),
        bg_color=None if found["bg_color"] is None else _ints(found["bg_color"], 4, 0, 255),
        crop=_flag(found["crop"]),
        margin=Margin(*(_length(margin[side]) for side in _SIDES)),
        only_mask=_flag(found["only_mask"]),
        max_pixels=_whole_or_none(found["max_pixels"], 1, 10**12),
        target_size=None if found["target_size"] is None else _ints(found["target_size"], 2, 1, MAX_SIDE),
        vertical_alignment=_one_of(found["vertical_alignment"], get_args(Alignment)),
    )
    if conflict(options) is not None:
        raise ValueError(conflict(options))
    return options


def names_from_json(found: Any, most: int) -> tuple[str, ...]:
    """At most `most` field names as headers.field_name() writes them (a wrong shape is a ValueError)."""
    if not isinstance(found, list) or len(found) > most:
        raise ValueError(f"expected a list of at most {most} names")
    if not all(isinstance(name, str) and is_field_name(name) for name in found):
        raise ValueError("a field name a header cannot carry")
    return tuple(found)


_SIDES = ("top", "right", "bottom", "left")


def _one_of(value: Any, allowed: tuple[str, ...]) -> Any:
    if value not in allowed:
        raise ValueError(f"{value!r:.40} is not one of {allowed}")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _whole_or_none(value: Any, low: int, high: int) -> int | None:
    if value is None:
        return None
    return _ints([value], 1, low, high)[0]


def _ints(values: Any, count: int, low: int, high: int) -> Any:
    if not isinstance(values, list) or len(values) != count:
        raise ValueError(f"expected {count} whole numbers")
    if not all(isinstance(value, int) and not isinstance(value, bool) and low <= value <= high for value in values):
        raise ValueError(f"expected whole numbers from {low} to {high}")
    return tuple(values)


def _length(found: Any) -> Length:
    value, percent = found["value"], _flag(found["percent"])
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= MAX_MARGIN_PX:
        raise ValueError("a margin out of its range")
    return Length(float(value), percent)
