"""make models: per model, its model time, time per image at 1280×960 and 12 MP, peak memory and start-up.

Each model runs in a fresh process of its own (so its peak resident memory is its own): loaded
as the function loads it, one warm-up, then the median of RUNS cut-outs of each size through
the function's own code path (harness/answerers.py; MODNET through the function's pipeline); then
ONNX Runtime's run alone on a tensor of the model's input size. A fresh server process of it is
timed to ready and to its first image, and the image that serves it, where `make
test-container` measured one here, gives its size and a fresh container's first image.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from bench import measure
from bench.chart import cpu_description
from bench.processes import first_success, start_ours, time_to_ready
from function.config import Settings
from function.model.load import open_session
from function.model.locate import locate
from function.model.sessions import new_session
from harness import answerers, models
from harness.processes import PYTHONPATH, ROOT
from harness.quality import markdown_table
from harness.targets import CORE_ADDS_AT_MOST, SIZES, targets, verdict

RUNS = 5
PAIRED_RUNS = 9


def _photo(size: tuple[int, int]) -> bytes:
    from skimage import data

    out = io.BytesIO()
    Image.fromarray(data.astronaut()).resize(size, Image.Resampling.BICUBIC).save(out, "JPEG", quality=90)
    return out.getvalue()


def _figure(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def child(model: str) -> dict[str, float]:
    answerer = answerers.start(model, dict(os.environ))
    found: dict[str, float] = {}
    try:
        for size in SIZES:
            body = _photo(size)
            answerer.answer(body, {})
            found[f"{size[0]}x{size[1]}_s"] = statistics.median(answerer.answer(body, {})[1] for _ in range(RUNS))
    finally:
        answerer.stop()
    found["peak_rss_mb"] = _peak_rss_mb()
    if model != answerers.MODNET:  # a second copy of the model, loaded after the peak was read
        settings = Settings.from_env(models.environment(dict(os.environ), model))
        session = open_session(settings.model, len(os.sched_getaffinity(0)), settings.arena, settings.optimized_copy)
        found["model_s"] = measure.model_time(session, RUNS)
        del session
        if settings.core_model is not None:  # the tier's second model, loaded as the function loads it
            core = open_session(settings.core_model, len(os.sched_getaffinity(0)), settings.arena)
            found["core_model_s"] = measure.model_time(core, RUNS)
            del core
        found["rembg_model_s"] = measure.model_time(rembg_session(model), RUNS)
    return found


def rembg_session(model: str):
    """rembg's default session (ONNX Runtime's default options) of the model's original: u2net for
    u2net-int8, the ISNet file for isnet-int8; what the issue's model-time target compares against."""
    import onnxruntime as ort

    main = model.partition("+")[0]
    original = models.ORIGINALS.get(main, main)
    choice = Settings.from_env(models.settings(original)).model
    return new_session(choice.session, ort.SessionOptions(), str(locate(choice)) if choice.custom else None)


def start_up(model: str) -> dict[str, float]:
    """A fresh server process of the model: seconds to ready, and to its first answered 1280×960 image."""
    with tempfile.TemporaryDirectory(prefix="remove-bg-start-") as work:
        server = start_ours(sys.executable, model, dict(os.environ), Path(work) / "server.log")
        try:
            return {"ready_s": time_to_ready(server), "first_image_s": first_success(server, _photo(SIZES[0]))}
        finally:
            server.stop()


def containers() -> dict[str, dict]:
    """`make test-container`'s measurements of each image built here, by the model its responses name."""
    found = {}
    for path in sorted(ROOT.glob("build/container-measurements-*.json")):
        measured = json.loads(path.read_text())
        if "model" in measured:
            found[measured["model"]] = measured
    return found


def paired(first: str, second: str) -> str:
    """Two models in one process, their requests alternating (A, B, A, B…): what the second adds, as a ratio.

    The machine is shared and noisy; alternating puts both under the same noise, so a few percent
    (a core model's cost) can be told from it. Memory is not measured here: two models are loaded.
    """
    one, other = (answerers.start(model, dict(os.environ)) for model in (first, second))
    rows = []
    try:
        for size in SIZES:
            body = _photo(size)
            one.answer(body, {})
            other.answer(body, {})
            times: dict[str, list[float]] = {first: [], second: []}
            for _ in range(PAIRED_RUNS):
                times[first].append(one.answer(body, {})[1])
                times[second].append(other.answer(body, {})[1])
            low, high = (statistics.median(times[model]) for model in (first, second))
            added = high / low - 1
            said = verdict(added <= CORE_ADDS_AT_MOST)
            rows.append([f"{size[0]}×{size[1]}", f"{low:.3f}", f"{high:.3f}", f"{added:+.1%}", said])
    finally:
        one.stop()
        other.stop()
    columns = ["photo", f"{first} s", f"{second} s", "added", f"target: ≤ {CORE_ADDS_AT_MOST:.0%}"]
    return markdown_table(f"{second} against {first}: {PAIRED_RUNS} alternating runs each, median", columns, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--models",
        default="u2net-int8,u2net,u2netp,isnet-int8+u2netp,isnet,isnet+u2netp,modnet",
        help="as harness/answerers.py names them",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--pair", help="two models, e.g. isnet,isnet+u2netp: the second's cost against the first's")
    args = parser.parse_args(argv)
    if args.pair:
        print(paired(*args.pair.split(",", 1)))
        return 0
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    rows: list[list[str]] = []
    verdicts: list[str] = []
    images = containers()
    for model in [name.strip() for name in args.models.split(",") if name.strip()]:
        env = {**os.environ, "PYTHONPATH": f"{PYTHONPATH}:{ROOT}"}
        command = [sys.executable, "-m", "bench.models", "--child", model]
        done = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{model}: {done.stderr[-2000:]}")
        found = json.loads(done.stdout.strip().splitlines()[-1])
        verdicts += targets(model, found)
        started = start_up(model) if model != answerers.MODNET else {}
        label = Settings.from_env(models.settings(model)).label if model != answerers.MODNET else ""
        image = images.get(label, {})
        rows.append(
            [
                model,
                _figure(found.get("model_s")),
                _figure(found.get("rembg_model_s")),
                *(f"{found[f'{w}x{h}_s']:.3f}" for w, h in SIZES),
                f"{found['peak_rss_mb']:.0f}",
                _figure(started.get("ready_s"), 2),
                _figure(started.get("first_image_s"), 2),
                _figure(image.get("cold_start_s"), 2),
                _figure(image.get("image_size_mb"), 0),
            ]
        )
    columns = [
        "model",
        "model time (s)",
        "rembg's default session of the original (s)",
        "s / image, 1280×960",
        "s / image, 4000×3000 (12 MP)",
        "peak RSS (MB)",
        "ready (s)",
        "first image (s)",
        "container: first image (s)",
        "image (MB)",
    ]
    print(markdown_table(f"Models: {RUNS} runs each, median, 2 CPUs", columns, rows))
    print(
        "\nready and first image: a fresh server process (files in the page cache); the container columns are "
        "`make test-container`'s last measurement of the image that serves the model, where one was built here."
    )
    if verdicts:
        print("\nTimed targets (issue 25; the CPU: " + cpu_description() + "):\n" + "\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
