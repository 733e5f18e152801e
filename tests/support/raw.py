"""HTTP written to a socket by hand: the requests no client library will send (malformed, oversized, held)."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass


def request(body: bytes, *headers: str, path: str = "/", method: str = "POST") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: x", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def exchange(port: int, payload: bytes, *, pause: float = 0.0, pieces: int = 1) -> bytes:
    """Send `payload` (in `pieces`, `pause` s apart), close the sending side, and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        step = max(1, len(payload) // pieces)
        for start in range(0, len(payload), step):
            sock.sendall(payload[start : start + step])
            time.sleep(pause)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names lowercased
    body: bytes


def parse(raw: bytes) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split(" ", 2)[1]), headers, body)
