"""Typed reads of environment variables: one rule for the server's settings and the function's.

The template's settings (template/python3-rembg/settings.py) and the function's (config.py) both
read through Environment, so a variable means the same whatever side reads it: surrounding spaces
do not count, an empty value is the default, a whole number may group its digits with underscores
(50_000_000), seconds are a finite number, a switch is on or off, and a bad value is one
SettingError whose message starts with the variable and its value. The template turns that
ValueError into exit code 2, whether the server's settings or the function's start() raised it.

The template imports this module from the function package (the function never imports the
template), so it imports nothing of the function itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

Default = TypeVar("Default")

ON = ("1", "true", "on", "yes")
OFF = ("0", "false", "off", "no")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Form:
    """How a number is written: parsed by `convert` (ValueError if it is not), named `words` when it is not."""

    convert: Callable[[str], float]
    words: str
    unit: str  # after a bound in a message: " seconds"


def parse_duration(text: str) -> float:
    """A Go duration ("30s", "1m5s", "500ms"), or bare seconds, in seconds; ValueError for anything else."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(text)
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


WHOLE = Form(lambda raw: int(raw.replace("_", "")), "a whole number", "")
SECONDS = Form(float, "a number of seconds", " seconds")
DURATION = Form(parse_duration, "a duration such as 30s, 1m5s or 500ms", " seconds")


class SettingError(ValueError):
    """A variable in the environment is missing its form or range; the message names it."""


class Environment:
    """The variables of one environment, each read as its type, its bounds checked."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str | None:
        """The value without surrounding spaces; None when unset or blank (the default, then)."""
        return self._env.get(name, "").strip() or None

    def named(self, name: str) -> str | None:
        """As text(), but a variable that is set must say something: set and blank is a SettingError.

        For a variable whose default is weaker than any value given (a token file): an operator who
        set it and left it empty meant to set it, and must not get the default without a word.
        """
        value = self.text(name)
        if value is None and name in self._env:
            raise SettingError(f"{name}={self._env[name]!r} is set but empty; give it a value, or unset {name}")
        return value

    def whole(self, name: str, default: Default, *, low: int, high: int | None = None) -> int | Default:
        """A whole number from `low` to `high` (no upper bound when None), underscores allowed."""
        return self._number(name, default, WHOLE, low=low, high=high)

    def seconds(self, name: str, default: Default, *, low: float, high: float | None = None) -> float | Default:
        """A finite number of seconds from `low` to `high`, a fraction allowed."""
        return self._number(name, default, SECONDS, low=low, high=high)

    def duration(self, name: str, default: Default, *, low: float) -> float | Default:
        """A Go duration as OpenFaaS writes its timeouts (30s, 1m5s, 500ms) or bare seconds, in seconds."""
        return self._number(name, default, DURATION, low=low, high=None)

    def switch(self, name: str, default: Default) -> bool | Default:
        """on or off (1/0, true/false, yes/no too, in any case)."""
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() in ON:
            return True
        if raw.lower() in OFF:
            return False
        raise SettingError(f"{name}={raw!r}: expected on or off")

    def one_of(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        """One of `allowed` (lower case), in any case."""
        value = (self.text(name) or default).lower()
        if value not in allowed:
            raise SettingError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
        return value

    def _number(self, name: str, default: Default, form: Form, *, low: float, high: float | None) -> Any:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = form.convert(raw)
        except ValueError:
            raise SettingError(f"{name}={raw!r}: expected {form.words}") from None
        # nan and inf parse as floats, and are no number of seconds; a whole number of any length is finite (and
        # isfinite() would make it a float, an OverflowError from 10**309 up: exit 1, not 2)
        if isinstance(value, float) and not math.isfinite(value):
            raise SettingError(f"{name}={raw!r}: expected {form.words}")
        if value < low or (high is not None and value > high):
            bounds = f"at least {_written(low)}" if high is None else f"from {_written(low)} to {_written(high)}"
            raise SettingError(f"{name}={raw!r}: must be {bounds}{form.unit}")
        return value


def _written(bound: float) -> str:
    """A bound as a person writes it: 0.1 and 600 seconds; 100000000000 bytes in full."""
    return f"{bound:g}" if isinstance(bound, float) else str(bound)
