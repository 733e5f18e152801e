"""The server's settings, read from the environment once: where to listen, every limit, logs, metrics, the token.

The function reads its own settings in its start(); these are the platform's. Each has a named
default, and a bad value raises SettingError naming the variable, so start-up stops (exit 2)
before anything is served.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from function.environment import Environment, SettingError

DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 8080
DEFAULT_MAX_INFLIGHT = 1
DEFAULT_MAX_BODY_BYTES = 30 * 1000 * 1000
DEFAULT_DRAIN_SECONDS = 30.0
DEFAULT_READ_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_CONNECTIONS = 100
# The worker posts from inside the cluster, where even a 30 MB body arrives in well under a second
# (hundreds of MB/s across nodes). 64 KiB/s is a bad mobile uplink's pace (~0.5 Mbit/s), a hundredth of
# anything that comes through a gateway in the same cluster, so no real client is cut; a client that
# does trickle frees its share of the body buffer after the grace instead of after read_timeout.
# The grace covers TCP's slow start and a client that sends its headers before it has the body ready.
DEFAULT_MIN_UPLOAD_BYTES_PER_SECOND = 64 * 1024
DEFAULT_UPLOAD_GRACE_SECONDS = 5.0
# A response is all sent within this: a worker in the cluster reads a 20 MB cut-out in well under a second, and
# a gateway relaying to a slow client gets the read_timeout's 30 s too. A client that never reads is dropped then.
DEFAULT_SEND_TIMEOUT_SECONDS = 30.0
# Responses waiting for their clients, in all: six 12 MP cut-outs (~20 MB each). Past it the ones waiting
# longest are dropped, so clients that never read cannot fill the pod's memory within the send timeout.
DEFAULT_MAX_UNSENT_BYTES = 128 * 1000 * 1000
# Bodies received at once: this many of the largest, so a burst queues a few uploads, not 100.
BUFFERED_BODIES = 4
DEFAULT_LOG_LEVEL = "INFO"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("json", "text")
# The port OpenFaaS' own watchdog serves its metrics on; never the function's public port.
DEFAULT_METRICS_PORT = 8081
# Where OpenFaaS mounts a secret named remove-bg-token (Knative mounts a Secret volume the same way).
DEFAULT_TOKEN_FILE = "/var/openfaas/secrets/remove-bg-token"
# Tokens a token file may hold at once: an old and a new one while rotating, and room for a second client.
MAX_TOKENS = 4
# A token file's size at most: four tokens of 8 KiB (the longest header line nginx passes by default) and then
# some. It is read on the loop every connection shares, so a larger file is refused, not read.
MAX_TOKEN_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """Where to listen, and every limit on connections, bodies and time."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_inflight: int = DEFAULT_MAX_INFLIGHT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_buffered_bytes: int = BUFFERED_BODIES * DEFAULT_MAX_BODY_BYTES
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS
    min_upload_bytes_per_second: int = DEFAULT_MIN_UPLOAD_BYTES_PER_SECOND
    upload_grace_seconds: float = DEFAULT_UPLOAD_GRACE_SECONDS
    send_timeout_seconds: float = DEFAULT_SEND_TIMEOUT_SECONDS
    max_unsent_bytes: int = DEFAULT_MAX_UNSENT_BYTES
    drain_seconds: float = DEFAULT_DRAIN_SECONDS
    log_level: str = DEFAULT_LOG_LEVEL
    log_format: str = "json"
    metrics_port: int = DEFAULT_METRICS_PORT
    token_file: Path = Path(DEFAULT_TOKEN_FILE)
    tokens: tuple[str, ...] = ()  # POSTs must carry one of them when any is set; read from token_file

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSettings:
        read = Environment(os.environ if env is None else env)
        max_body_bytes = read.whole("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, low=1024)
        return cls(
            host=read.text("HOST") or DEFAULT_HOST,
            port=(port := read.whole("PORT", DEFAULT_PORT, low=1, high=65535)),
            max_inflight=read.whole("MAX_INFLIGHT", DEFAULT_MAX_INFLIGHT, low=1, high=64),
            max_body_bytes=max_body_bytes,
            max_buffered_bytes=read.whole("MAX_BUFFERED_BYTES", BUFFERED_BODIES * max_body_bytes, low=max_body_bytes),
            max_connections=read.whole("MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS, low=8, high=10_000),
            read_timeout_seconds=read.duration("read_timeout", DEFAULT_READ_TIMEOUT_SECONDS, low=0.001),
            min_upload_bytes_per_second=read.whole(
                "MIN_UPLOAD_BYTES_PER_SECOND", DEFAULT_MIN_UPLOAD_BYTES_PER_SECOND, low=0
            ),
            upload_grace_seconds=read.seconds("UPLOAD_GRACE_SECONDS", DEFAULT_UPLOAD_GRACE_SECONDS, low=0.0),
            send_timeout_seconds=read.seconds("SEND_TIMEOUT_SECONDS", DEFAULT_SEND_TIMEOUT_SECONDS, low=0.001),
            max_unsent_bytes=read.whole("MAX_UNSENT_BYTES", DEFAULT_MAX_UNSENT_BYTES, low=1024),
            # OpenFaaS names: the of-watchdog drains for write_timeout; DRAIN_SECONDS wins if set.
            drain_seconds=read.seconds(
                "DRAIN_SECONDS", read.duration("write_timeout", DEFAULT_DRAIN_SECONDS, low=0.001), low=0.0
            ),
            log_level=read.one_of("LOG_LEVEL", DEFAULT_LOG_LEVEL.lower(), tuple(map(str.lower, LOG_LEVELS))).upper(),
            log_format=read.one_of("LOG_FORMAT", "json", LOG_FORMATS),
            metrics_port=_metrics_port(read, port),
            # Set but blank is refused, not the default: an operator who set TOKEN_FILE meant a token.
            token_file=(token_file := Path((named := read.named("TOKEN_FILE")) or DEFAULT_TOKEN_FILE)),
            tokens=_tokens(token_file, named=named is not None),
        )


def _metrics_port(read: Environment, port: int) -> int:
    metrics_port = read.whole("METRICS_PORT", DEFAULT_METRICS_PORT, low=1, high=65535)
    if metrics_port == port:
        raise SettingError(
            f"METRICS_PORT={metrics_port}: must differ from PORT, so the function's route never serves metrics"
        )
    return metrics_port


def read_tokens(path: Path) -> tuple[str, ...] | None:
    """The tokens in `path`, one a line; None when there is no such file. Empty or unreadable: SettingError.

    More than one line is how a token is rotated without a refused call: the new token is added beside the
    old one, the clients move to it, then the old line goes (docs/operations.md, Token).
    """
    raw = _token_bytes(path)
    if raw is None:
        return None
    try:
        # utf-8-sig: a byte-order mark an editor wrote is not part of the first token. Not splitlines(): it
        # would cut a token in two at \x1c or \u2028.
        lines = raw.decode("utf-8-sig").split("\n")
    except UnicodeDecodeError:
        raise _unreadable(path, "UnicodeDecodeError") from None
    tokens = tuple(line.strip() for line in lines if line.strip())
    if not tokens:
        raise SettingError(f"TOKEN_FILE={str(path)!r}: the file is empty; put the token in it or remove it")
    if len(tokens) > MAX_TOKENS:
        raise SettingError(
            f"TOKEN_FILE={str(path)!r}: {len(tokens)} lines; at most {MAX_TOKENS} tokens, one a line (old and new)"
        )
    for token in tokens:
        if not all("!" <= char <= "~" for char in token):  # what `Authorization: Bearer` and X-Api-Key can carry
            raise SettingError(f"TOKEN_FILE={str(path)!r}: a token must be visible ASCII, without spaces")
    return tokens


def _token_bytes(path: Path) -> bytes | None:
    """The file's bytes, only from a regular file of at most MAX_TOKEN_FILE_BYTES; None when there is none.

    A pipe would wait for a writer and a device such as /dev/zero never ends; the file is read again on the
    loop every request waits on (auth.TokenFile), so what cannot be a token file is refused, not read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a pipe opens at once, to be refused below
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise _unreadable(path, exc.__class__.__name__) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _unreadable(path, "not a regular file")
        raw = os.read(fd, MAX_TOKEN_FILE_BYTES + 1)
    except OSError as exc:
        raise _unreadable(path, exc.__class__.__name__) from None
    finally:
        os.close(fd)
    if len(raw) > MAX_TOKEN_FILE_BYTES:
        raise SettingError(f"TOKEN_FILE={str(path)!r}: over {MAX_TOKEN_FILE_BYTES} bytes, not a file of tokens")
    return raw


def _unreadable(path: Path, why: str) -> SettingError:
    return SettingError(f"TOKEN_FILE={str(path)!r}: cannot be read ({why})")


def _tokens(path: Path, named: bool) -> tuple[str, ...]:
    """The tokens, if any. The platform's default place may hold none (an optional secret); a file the
    operator names must be there: a typo or a secret not mounted would otherwise leave every POST open."""
    tokens = read_tokens(path)
    if tokens is None and named:
        raise SettingError(f"TOKEN_FILE={str(path)!r}: no such file; mount the token there, or unset TOKEN_FILE")
    return tokens or ()
