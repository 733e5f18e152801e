"""The function's own settings, read by start() from the environment it is given.

(U2NET_HOME, where models live, is rembg's own variable: rembg reads it, and so does nothing here.)
A bad value raises ConfigError (a ValueError, which the template turns into exit code 2) with a
message that names the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MODEL = "u2net"
# From the README's memory table: the worst format still keeps a u2net process within 1.5 GB.
DEFAULT_MAX_INPUT_PIXELS = 50 * 1000 * 1000
DEFAULT_MAX_PIXELS = 25 * 1000 * 1000
DEFAULT_PNG_COMPRESS_LEVEL = 1


@dataclass(frozen=True)
class Settings:
    """Which model, on how many threads, for pictures of what size, written how."""

    model: str = DEFAULT_MODEL  # REMBG_MODEL
    threads: int | None = None  # ORT_THREADS, ONNX Runtime's intra-op threads; None: one per usable CPU
    max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS
    max_pixels: int = DEFAULT_MAX_PIXELS
    png_compress_level: int = DEFAULT_PNG_COMPRESS_LEVEL
    try_page: bool = True  # TRY_PAGE: the try-it page at GET /

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            model=_given(env, "REMBG_MODEL") or DEFAULT_MODEL,
            max_input_pixels=_whole(env, "MAX_INPUT_PIXELS", 1, 1_000_000_000) or DEFAULT_MAX_INPUT_PIXELS,
            max_pixels=_whole(env, "MAX_PIXELS", 100, 1_000_000_000) or DEFAULT_MAX_PIXELS,
            png_compress_level=_level(env),
            threads=_whole(env, "ORT_THREADS", 1, 256),
            try_page=_switch(env, "TRY_PAGE", default=True),
        )


class ConfigError(ValueError):
    """A setting in the environment is missing its form or range."""


def _given(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value, stripped; None when it is unset or blank."""
    return env.get(name, "").strip() or None


def _whole(env: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    """A whole number within [low, high] (underscores allowed: 50_000_000); None when unset."""
    raw = _given(env, name)
    if raw is None:
        return None
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r}: must be from {low} to {high}")
    return value


def _switch(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = _given(env, name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "on", "yes"):
        return True
    if raw.lower() in ("0", "false", "off", "no"):
        return False
    raise ConfigError(f"{name}={raw!r}: expected on or off")


def _level(env: Mapping[str, str]) -> int:
    level = _whole(env, "PNG_COMPRESS_LEVEL", 0, 3)
    return DEFAULT_PNG_COMPRESS_LEVEL if level is None else level
