"""`make memory`: peak RSS per input format and mode at MEGAPIXELS, each in a fresh process (docs/reliability.md).

The function's settings in the environment reach the child (ORT_MEMORY_ARENA=on, say), so a
setting's cost in memory is measured by the same command."""

from __future__ import annotations

import argparse
import json
import sys

from function.config import DEFAULT_MAX_INPUT_PIXELS
from harness import models
from harness.memory import CASES, MB, ROOT, measure_case


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("megapixels", nargs="?", type=float, default=DEFAULT_MAX_INPUT_PIXELS / MB)
    parser.add_argument("--model", default="u2net-int8", help="as harness/models.py names them, e.g. isnet-int8+u2netp")
    parser.add_argument("--cases", default="", help="only these cases, comma-separated (e.g. 'JPEG RGB')")
    args = parser.parse_args()
    megapixels, model = args.megapixels, args.model
    chosen = [case for case in CASES if not args.cases or case.name in args.cases.split(",")]
    env = {**models.settings(model), "MAX_INPUT_PIXELS": str(10**9)}
    work = ROOT / "build" / "memory"
    work.mkdir(parents=True, exist_ok=True)
    pixels = int(megapixels * MB)
    print(
        f"| input (limit {megapixels:g} MP, {model}) | MP | body MB | pod peak MB | model process MB "
        "| decode worker MB | bytes / input pixel | decode s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for case in chosen:
        row = measure_case(case, pixels, env, work)
        rows.append(row)
        print(
            f"| {case.name} | {row['pixels'] / MB:.1f} | {row['body'] / MB:.1f} | {row['peak'] / MB:.0f} "
            f"| {row['model_peak'] / MB:.0f} | {row['decode_peak'] / MB:.0f} | {row['bytes_per_pixel']:.1f} "
            f"| {row['decode_ms'] / 1000:.2f} |",
            flush=True,
        )
    (work / "memory.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
