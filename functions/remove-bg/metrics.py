"""The function's own Prometheus metrics: where an image's time goes, how large inputs are, which model.

They live in prometheus-client's default registry, which the template serves on its metrics port
beside its own request metrics.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info

from .model.load import Loaded

# One stage of one image: milliseconds for a small decode, seconds for the model on a slow CPU.
STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
# Upright input sizes: chat thumbnails, phone photos (12 MP), and up to the largest accepted.
MEGAPIXEL_BUCKETS = (0.1, 0.3, 0.5, 1.0, 2.0, 4.0, 8.0, 12.0, 16.0, 25.0, 50.0, 100.0)

STAGE_SECONDS = Histogram("remove_bg_stage_seconds", "One stage of one image.", ["stage"], buckets=STAGE_BUCKETS)
INPUT_MEGAPIXELS = Histogram("remove_bg_input_megapixels", "The upright input's size.", buckets=MEGAPIXEL_BUCKETS)
MODEL_LOAD_SECONDS = Gauge("remove_bg_model_load_seconds", "How long loading the model took at start-up.")
MODEL = Info("remove_bg_model", "The model this process serves: its files' md5 and the files ONNX Runtime loaded.")


def model_loaded(label: str, model: Loaded, core: Loaded | None, seconds: float) -> None:
    """The model served (with its core model, if any): each one's md5, and the file that runs (an optimised
    copy is bound to that md5)."""
    MODEL_LOAD_SECONDS.set(seconds)
    facts = {"model": label, "md5": model.md5, "file": str(model.file)}
    if core is not None:
        facts |= {"core_md5": core.md5, "core_file": str(core.file)}
    MODEL.info(facts)


def image_done(seconds: dict[str, float], source_size: tuple[int, int]) -> None:
    for stage, spent in seconds.items():
        STAGE_SECONDS.labels(stage=stage).observe(spent)
    INPUT_MEGAPIXELS.observe(source_size[0] * source_size[1] / 1e6)


# A worker's peak: a photo's decode takes tens of megabytes, a 50 MP one some hundreds.
DECODE_PEAK_BUCKETS = (25e6, 50e6, 100e6, 200e6, 300e6, 400e6, 500e6, 600e6, 800e6, 1e9, 1.5e9)
DECODE_PEAK_BYTES = Histogram(
    "remove_bg_decode_peak_bytes", "A decode worker's peak resident memory.", buckets=DECODE_PEAK_BUCKETS
)
DECODE_BREACHES = Counter(
    "remove_bg_decode_breaches_total",
    "Decode workers stopped by a limit: memory, time, deadline (the request's), crash.",
    ["limit"],
)
DEADLINES = Counter("remove_bg_deadline_exceeded_total", "Requests stopped at REQUEST_SECONDS, by stage.", ["stage"])


def decode_done(peak_bytes: int) -> None:
    DECODE_PEAK_BYTES.observe(peak_bytes)


def decode_breach(limit: str) -> None:
    DECODE_BREACHES.labels(limit=limit).inc()


def deadline_exceeded(stage: str) -> None:
    DEADLINES.labels(stage=stage).inc()
