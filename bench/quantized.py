"""make quantized: each int8 model against its original on the ground truth, judged by the rule that decides
whether it may be the default (harness/quantized.py), both through the function as the server runs them, the
quality tier's core model included on both sides.

    python -m bench.quantized                     # both tiers, the three shared sets
    python -m bench.quantized --tiers fast --sets grabcut50
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from harness.quality import markdown_table
from harness.quantized import SETS, TIERS, judge
from harness.sets import SHARED

DEFAULT_OUT = Path("bench/results/quantized.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quantized", description=__doc__.splitlines()[0])
    parser.add_argument("--tiers", default=",".join(TIERS), help="fast, quality")
    parser.add_argument("--sets", default=",".join(SETS), help=f"under {SHARED}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    rows = [
        judged
        for tier in args.tiers.split(",")
        for data in args.sets.split(",")
        for judged in judge(tier, SHARED / data)
    ]
    table = [
        [
            f"{row.tier}: {TIERS[row.tier][1]} against {TIERS[row.tier][0]}",
            row.data,
            row.measure,
            f"{row.original:.4f}",
            f"{row.quantized:.4f}",
            row.change,
            "yes" if row.within else "**no**",
        ]
        for row in rows
    ]
    title = "int8 against the original on the ground truth (bench/quantized.py)"
    print(markdown_table(title, ["tier", "set", "measure", "original", "int8", "change", "as good"], table))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([asdict(row) for row in rows], indent=2))
    for tier in dict.fromkeys(row.tier for row in rows):
        verdict = all(row.within for row in rows if row.tier == tier)
        print(f"{tier}: {TIERS[tier][1]} is {'as good as' if verdict else 'NOT as good as'} {TIERS[tier][0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
