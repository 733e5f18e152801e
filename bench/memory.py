"""`make memory`: peak RSS per input format and mode at MEGAPIXELS, each in a fresh process (the README's table)."""

from __future__ import annotations

import json
import os
import sys

from function.config import DEFAULT_MAX_INPUT_PIXELS
from harness.memory import CASES, MB, ROOT, measure_case


def main() -> int:
    megapixels = float(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MAX_INPUT_PIXELS / MB
    env = {"REMBG_MODEL": os.environ.get("REMBG_MODEL", "u2net"), "MAX_INPUT_PIXELS": str(10**9)}
    work = ROOT / "build" / "memory"
    work.mkdir(parents=True, exist_ok=True)
    pixels = int(megapixels * MB)
    print(f"| input ({megapixels:g} MP, {env['REMBG_MODEL']}) | body MB | peak RSS MB | bytes / input pixel |")
    print("|---|---:|---:|---:|")
    rows = []
    for case in CASES:
        row = measure_case(case, pixels, env, work)
        rows.append(row)
        print(
            f"| {case.name} | {row['body'] / MB:.1f} | {row['peak'] / MB:.0f} | {row['bytes_per_pixel']:.1f} |",
            flush=True,
        )
    (work / "memory.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
