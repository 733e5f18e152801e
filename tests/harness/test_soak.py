"""What `make soak` calls a leak, on the shapes resident memory really took (docs/reliability.md)."""

from __future__ import annotations

from harness.load import Outcome
from harness.soak import Run, failures_in, report_of

MB = 1_000_000
SECONDS = 120.0


def _run(memory_mb: list[float]) -> Run:
    """A clean two-minute soak, two samples a second, resident memory as given (spread evenly)."""
    step = SECONDS / len(memory_mb)
    memory = [(index * step, int(mb * MB)) for index, mb in enumerate(memory_mb)]
    outcomes = [Outcome("photo", at, 0.2, 200, True) for at, _ in memory]
    probes = [(0.01, 200)]
    return Run("u2net-int8", SECONDS, 2.0, 4.0, outcomes, memory, probes, 0.0, SECONDS)


def _memory_failures(memory_mb: list[float]) -> list[str]:
    return [failure for failure in failures_in({**report_of(_run(memory_mb)), "exit_code": 0}) if "memory" in failure]


def test_a_heap_that_keeps_a_burst_s_high_water_mark_is_not_a_leak() -> None:
    # one CI run of the fast tier: 341 MB between requests at first, then 424 MB to the end
    plateau = [341, 420, 350] * 10 + [424] * 210
    assert _memory_failures(plateau) == []


def test_a_process_that_hands_memory_back_peaking_by_luck_is_not_a_leak() -> None:
    breathing = [400, 1050] * 30 + [410, 950] * 60 + [419, 1140] * 30
    assert _memory_failures(breathing) == []


def test_memory_kept_by_every_request_is_a_leak() -> None:
    leaking = [340 + index * 0.5 + (100 if index % 2 else 0) for index in range(240)]
    failures = _memory_failures(leaking)
    assert len(failures) == 1 and "leaked" in failures[0], failures


def test_memory_over_the_pod_s_budget_fails_even_when_flat() -> None:
    assert any("budget" in failure for failure in _memory_failures([1600] * 240))
