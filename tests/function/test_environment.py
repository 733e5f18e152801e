"""The one rule both sides read their variables by: forms, bounds, the default, and messages naming the variable."""

from __future__ import annotations

import re

import pytest

from function.environment import Environment, SettingError, parse_duration

HUGE = "1" + "0" * 400


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("1m5s", 65.0), ("500ms", 0.5), ("1h", 3600.0), ("12", 12.0), ("2.5s", 2.5)]
)
def test_openfaas_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_each_type_s_forms() -> None:
    read = Environment(
        {"N": " 50_000_000 ", "S": "2.5", "D": "1m5s", "ON": "Yes", "OFF": "0", "F": "TEXT", "T": " a b "}
    )
    assert read.whole("N", 1, low=0) == 50_000_000
    assert read.seconds("S", 1.0, low=0.0) == 2.5
    assert read.duration("D", 1.0, low=0.001) == 65.0
    assert (read.switch("ON", None), read.switch("OFF", None)) == (True, False)
    assert read.one_of("F", "json", ("json", "text")) == "text"
    assert read.text("T") == "a b"


def test_unset_or_blank_is_the_default() -> None:
    read = Environment({"BLANK": "  ", "EMPTY": ""})
    for name in ("BLANK", "EMPTY", "UNSET"):
        assert read.text(name) is None
        assert read.whole(name, None, low=1) is None
        assert read.whole(name, 7, low=1) == 7
        assert read.seconds(name, 2.5, low=1.0) == 2.5, "a default outside the bounds is the caller's choice"
        assert read.duration(name, 30.0, low=0.001) == 30.0
        assert read.switch(name, True) is True
        assert read.one_of(name, "json", ("json", "text")) == "json"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "X='0': must be from 1 to 10"),
        ("11", "X='11': must be from 1 to 10"),
        ("10", None),
        ("1", None),
        ("1.5", "X='1.5': expected a whole number"),
        ("ten", "X='ten': expected a whole number"),
        # more than a float holds (10**309 and up): a number out of bounds all the same, not an OverflowError (exit 1)
        (HUGE, f"X={HUGE!r}: must be from 1 to 10"),
    ],
)
def test_whole_numbers_within_their_bounds(value: str, message: str | None) -> None:
    read = Environment({"X": value})
    if message is None:
        assert read.whole("X", None, low=1, high=10) == int(value)
        return
    with pytest.raises(SettingError, match=f"^{re.escape(message)}$"):
        read.whole("X", None, low=1, high=10)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nan", "S='nan': expected a number of seconds"),
        ("inf", "S='inf': expected a number of seconds"),
        ("-inf", "S='-inf': expected a number of seconds"),
        ("0.05", "S='0.05': must be from 0.1 to 600 seconds"),
        ("601", "S='601': must be from 0.1 to 600 seconds"),
    ],
)
def test_seconds_are_finite_and_within_their_bounds(value: str, message: str) -> None:
    with pytest.raises(SettingError, match=f"^{re.escape(message)}$"):
        Environment({"S": value}).seconds("S", None, low=0.1, high=600.0)


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda env: env.whole("X", 1, low=1024), "X='-5': must be at least 1024"),
        (lambda env: env.seconds("X", 1.0, low=0.0), "X='-5': must be at least 0 seconds"),
        (lambda env: env.duration("X", 1.0, low=0.001), "X='-5': must be at least 0.001 seconds"),
    ],
)
def test_a_bound_below_only(read, message: str) -> None:
    with pytest.raises(SettingError, match=f"^{re.escape(message)}$"):
        read(Environment({"X": "-5"}))
    assert read(Environment({"X": "1_000_000_000_000"})) == 10**12, "no bound above"


def test_a_whole_number_longer_than_a_float_holds() -> None:
    assert Environment({"X": HUGE}).whole("X", None, low=1) == 10**400, "no bound above"


def test_switches_and_choices_name_the_variable_and_the_value() -> None:
    read = Environment({"SW": "sometimes", "ONE": "LOUD"})
    with pytest.raises(SettingError, match=r"^SW='sometimes': expected on or off$"):
        read.switch("SW", None)
    with pytest.raises(SettingError, match=r"^ONE='loud': expected one of json, text$"):
        read.one_of("ONE", "json", ("json", "text"))
    assert isinstance(SettingError("x"), ValueError), "the template turns a ValueError into exit code 2"


def test_a_variable_that_must_say_something_once_set() -> None:
    read = Environment({"SET": " /run/token ", "BLANK": " "})
    assert read.named("SET") == "/run/token"
    assert read.named("UNSET") is None, "unset: the caller's default"
    with pytest.raises(SettingError, match=r"^BLANK=' ' is set but empty; give it a value, or unset BLANK$"):
        read.named("BLANK")
