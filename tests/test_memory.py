"""Peak memory for every format and mode at the largest size the default limits accept, in fresh processes.

The budget is the pod's: a process of either tier (u2net; ISNet with u2netp's core) stays within
1.5 GB of its 2 GB limit, whatever the picture's format, mode or shape (harness/memory.py has the
cases; docs/reliability.md, their table).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from function.config import DEFAULT_MAX_INPUT_PIXELS
from harness import models
from harness.memory import BUDGET_BYTES, CASES, Case, measure_case


@pytest.mark.parametrize("tier", [models.FAST, models.QUALITY])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_peak_rss_within_the_budget_at_the_largest_accepted_size(case: Case, tier: str, tmp_path: Path) -> None:
    row = measure_case(case, DEFAULT_MAX_INPUT_PIXELS, models.settings(tier), tmp_path)
    print(f"{tier}, {case.name}: peak {row['peak'] / 1e6:.0f} MB, {row['bytes_per_pixel']:.1f} B/px")
    assert row["status"] == 200
    assert row["peak"] <= BUDGET_BYTES
