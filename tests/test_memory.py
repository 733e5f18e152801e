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
from harness.burst import burst, photo
from harness.memory import BUDGET_BYTES, CASES, Case, measure_case

# What four clients sending 12 MP photos at one slot may add to one photo's peak: bodies in
# transit and the answer being sent. With glibc's own mmap threshold a burst added 57-86 MB
# (harness/burst.py; a trim after each request changed nothing); with process/heap.py's, 5-9 MB.
BURST_MARGIN_MB = 25
BURST_PEAK_MB = 600
BURST_SECONDS = 30


@pytest.mark.parametrize("tier", [models.FAST, models.QUALITY])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_peak_rss_within_the_budget_at_the_largest_accepted_size(case: Case, tier: str, tmp_path: Path) -> None:
    row = measure_case(case, DEFAULT_MAX_INPUT_PIXELS, models.settings(tier), tmp_path)
    print(f"{tier}, {case.name}: peak {row['peak'] / 1e6:.0f} MB, {row['bytes_per_pixel']:.1f} B/px")
    assert row["status"] == 200
    assert row["peak"] <= BUDGET_BYTES


def test_a_burst_leaves_the_memory_one_photo_needs(start_server) -> None:
    """Four clients post 12 MP photos at the fast tier's one slot (the others get 429s and retry)."""
    server = start_server(MAX_INFLIGHT="1", LOG_LEVEL="WARNING", **models.settings(models.FAST)).wait_ready()
    result = burst(server.url + "/", server.proc.pid, photo(), clients=4, seconds=BURST_SECONDS)
    print(result)
    assert result.incorrect == 0 and result.photos_per_s > 0 and result.refused > 0
    assert result.peak_mb <= result.one_photo_mb + BURST_MARGIN_MB
    assert result.peak_mb <= BURST_PEAK_MB
