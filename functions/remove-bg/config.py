"""All configuration, read from the environment in one place.

(U2NET_HOME, where models live, is rembg's own variable: rembg reads it, and so does nothing here.)

Every setting has a named default; a bad value raises ConfigError with a message that names the
variable, so start-up stops before anything is served.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

DEFAULT_MODEL = "u2net"
DEFAULT_PORT = 8080
DEFAULT_HOST = "0.0.0.0"
DEFAULT_MAX_INFLIGHT = 1
DEFAULT_MAX_BODY_BYTES = 30 * 1000 * 1000
# From the measured table in the README: the worst format (lossless WebP, about 16 bytes per
# input pixel over the loaded model's 0.57 GB) keeps a u2net process under 1.5 GB up to 58 MP.
DEFAULT_MAX_INPUT_PIXELS = 50 * 1000 * 1000
DEFAULT_MAX_PIXELS = 25 * 1000 * 1000
DEFAULT_DRAIN_SECONDS = 30.0
DEFAULT_READ_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_CONNECTIONS = 100
# Bodies received at once: this many of the largest, so a burst queues a few uploads, not 100.
BUFFERED_BODIES = 4
DEFAULT_PNG_COMPRESS_LEVEL = 1
DEFAULT_LOG_LEVEL = "INFO"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

T = TypeVar("T", int, float)


class ConfigError(ValueError):
    """A setting in the environment is missing its form or range."""


@dataclass(frozen=True)
class Settings:
    model: str = DEFAULT_MODEL
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_inflight: int = DEFAULT_MAX_INFLIGHT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS
    max_pixels: int = DEFAULT_MAX_PIXELS
    drain_seconds: float = DEFAULT_DRAIN_SECONDS
    read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_buffered_bytes: int = BUFFERED_BODIES * DEFAULT_MAX_BODY_BYTES
    threads: int | None = None
    png_compress_level: int = DEFAULT_PNG_COMPRESS_LEVEL
    log_level: str = DEFAULT_LOG_LEVEL

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        reader = _Reader(env)
        max_body_bytes = reader.integer("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, low=1024)
        return cls(
            model=reader.text("REMBG_MODEL", DEFAULT_MODEL),
            host=reader.text("HOST", DEFAULT_HOST),
            port=reader.integer("PORT", DEFAULT_PORT, low=1, high=65535),
            max_inflight=reader.integer("MAX_INFLIGHT", DEFAULT_MAX_INFLIGHT, low=1, high=64),
            max_body_bytes=max_body_bytes,
            max_buffered_bytes=reader.integer(
                "MAX_BUFFERED_BYTES", BUFFERED_BODIES * max_body_bytes, low=max_body_bytes
            ),
            max_connections=reader.integer("MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS, low=8, high=10_000),
            max_input_pixels=reader.integer("MAX_INPUT_PIXELS", DEFAULT_MAX_INPUT_PIXELS, low=1, high=1_000_000_000),
            max_pixels=reader.integer("MAX_PIXELS", DEFAULT_MAX_PIXELS, low=100, high=1_000_000_000),
            # OpenFaaS names: the of-watchdog drains for write_timeout; DRAIN_SECONDS wins if set.
            drain_seconds=reader.number(
                "DRAIN_SECONDS", reader.duration("write_timeout", DEFAULT_DRAIN_SECONDS), low=0.0
            ),
            read_timeout_seconds=reader.duration("read_timeout", DEFAULT_READ_TIMEOUT_SECONDS),
            threads=reader.optional_integer("ORT_THREADS", low=1, high=256),
            png_compress_level=reader.integer("PNG_COMPRESS_LEVEL", DEFAULT_PNG_COMPRESS_LEVEL, low=0, high=3),
            log_level=reader.choice("LOG_LEVEL", DEFAULT_LOG_LEVEL, LOG_LEVELS),
        )


class _Reader:
    """Typed access to string variables; each method names the variable in its error."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def _raw(self, name: str) -> str | None:
        value = self._env.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def text(self, name: str, default: str) -> str:
        value = self._raw(name)
        return default if value is None else value

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name, default).upper()
        if value not in allowed:
            raise ConfigError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
        return value

    def integer(self, name: str, default: int, *, low: int, high: int | None = None) -> int:
        value = self.optional_integer(name, low=low, high=high)
        return default if value is None else value

    def optional_integer(self, name: str, *, low: int, high: int | None = None) -> int | None:
        return self._parsed(name, lambda raw: int(raw.replace("_", "")), "a whole number", low, high)

    def duration(self, name: str, default: float) -> float:
        value = self._parsed(name, parse_duration, "a duration such as 30s, 1m5s or 500ms", 0.001, None)
        return default if value is None else value

    def number(self, name: str, default: float, *, low: float) -> float:
        value = self._parsed(name, float, "a number", low, None)
        return default if value is None else value

    def _parsed(
        self, name: str, convert: Callable[[str], T], expected: str, low: float, high: float | None
    ) -> T | None:
        """The variable converted and range-checked; None if unset; ConfigError naming it if bad."""
        raw = self._raw(name)
        if raw is None:
            return None
        try:
            value = convert(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: expected {expected}") from None
        if not math.isfinite(value):
            raise ConfigError(f"{name}={raw!r}: expected a finite value")
        _check_range(name, value, low, high)
        return value


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """A Go duration as OpenFaaS writes timeouts ("30s", "1m5s", "500ms"), or bare seconds, in seconds."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(text)
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def _check_range(name: str, value: float, low: float, high: float | None) -> None:
    if value < low or (high is not None and value > high):
        upper = "" if high is None else f" and at most {high}"
        raise ConfigError(f"{name}={value}: must be at least {low}{upper}")
