"""Make an int8 model from its md5-checked original: static quantization, calibrated on real photos.

    python -m function.prepare.quantize u2net-int8              # rembg's u2net → U2NET_HOME/custom/u2net-int8.onnx
    python -m function.prepare.quantize isnet-general-use-int8  # from rembg's ISNet download; --force: make it again
    python -m function.prepare.quantize --source F --session dis_custom --out G   # any file of a family

Every int8 model is checked against its original before it is written, on photos the calibration
does not use (checked()): one whose masks are too far off is refused with the numbers. An int8 file
already there is checked the same way when the command names its model, once: what the check found
is kept beside it, bound to both files' md5s (Verdict), so a restart does not redo the build's work.

It runs where the image is built (the Dockerfile's build stage, with onnx and scikit-image
installed beside it and never shipped) or from a checkout (`make quantize`), never when a pod
starts. The calibration photos are scikit-image's bundled ones, whole, cropped and mirrored:
real photos, and none of the evaluation sets. Each is fed to the model exactly as rembg's session
feeds it when serving (the session's own preprocessing, recorded), so the ranges are the ones the
model meets.

The format, ONNX Runtime's QDQ with per-channel int8 weights, uint8 activations and MinMax
ranges, is the one the ground truth favoured (docs/models.md, int8 models). An fp16 file (IMG.LY's
ISNet) is made fp32 first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..model.digest import ModelError, md5_of
from ..model.locate import ModelChoice, quantized_file
from ..model.records import QUANTIZED_MODELS, record
from ..model.sessions import new_session
from .fetch import fetch
from .progress import quiet, shown, step
from .recipes import INT8, Int8, int8_recipe

log = logging.getLogger(__name__)


def calibration_method(recipe: Int8):
    """MinMax (each activation's whole range), or a percentile of each one's histogram (records.py holds each
    family's: MinMax keeps u2net as good as fp32; ISNet's activations have rare large values that MinMax
    stretches each range to, which left its mask far off)."""
    from onnxruntime.quantization import CalibrationMethod

    return CalibrationMethod.MinMax if recipe.percentile is None else CalibrationMethod.Percentile


def calibration_options(recipe: Int8) -> dict[str, object]:
    return {} if recipe.percentile is None else {"percentile": recipe.percentile, "symmetric": False}


PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "cat", "immunohistochemistry")
VARIANTS_PER_PHOTO = 5  # the whole photo and four crops, alternately mirrored: 35 calibration inputs
PER_CHANNEL_OPSET = 13
# How far an int8 model's mask may be from its original's on each check photo (agreement()): u2net-int8 and
# ISNet int8 as made here pass with about twice the room; ISNet with MinMax ranges and u2netp quantized as
# u2net is are far outside (docs/models.md, int8 models, has each one's numbers).
CHECK_MEAN_LIMIT = 6.0
CHECK_IOU_LIMIT = 0.93


def calibration_images() -> Iterator[Image.Image]:
    """Real photos bundled with scikit-image, whole and cropped, some mirrored."""
    from skimage import data

    for index, name in enumerate(PHOTOS):
        photo = Image.fromarray(getattr(data, name)()).convert("RGB")
        width, height = photo.size
        boxes = [(0, 0, width, height)]
        for corner in range(VARIANTS_PER_PHOTO - 1):
            left, top = (corner % 2) * width // 4, (corner // 2) * height // 4
            boxes.append((left, top, left + 3 * width // 4, top + 3 * height // 4))
        for variant, box in enumerate(boxes):
            crop = photo.crop(box)
            yield ImageOps.mirror(crop) if (index + variant) % 2 else crop


def calibration_feeds(session_name: str, model: Path, photos: list[Image.Image]) -> list[dict[str, np.ndarray]]:
    """The model's inputs for each calibration image, as rembg's own session prepares them."""
    import onnxruntime as ort

    session = new_session(session_name, ort.SessionOptions(), str(model))
    feeds: list[dict[str, np.ndarray]] = []
    inner = session.inner_session

    class Recorded(Exception):
        """The input is kept: the model need not run on it."""

    class Recorder:
        """rembg's session's ONNX Runtime session, stopped at its input, which is kept."""

        def get_inputs(self):
            return inner.get_inputs()

        def run(self, names: object, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
            feeds.append({key: np.array(value, copy=True) for key, value in feed.items()})
            raise Recorded

    session.inner_session = Recorder()
    for image in shown(photos, "preparing the calibration photos", "photos"):
        with contextlib.suppress(Recorded):
            session.predict(image)
    return feeds


class Feeds:
    """ONNX Runtime's CalibrationDataReader over recorded inputs."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]) -> None:
        self._feeds = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def quantizable(model_path: Path, out: Path) -> Path:
    """A copy the quantizer can read: all in fp32, opset 13 at least, its first output only.

    IMG.LY's ISNet computes in fp16 between a cast of its input and casts of its outputs; on a CPU,
    ONNX Runtime runs it in fp32 anyway, casting around each convolution. Its fp16 weights,
    constants and casts are made fp32. Per-channel weights need DequantizeLinear's `axis`, which
    opset 13 brought; u2net's file is opset 11.
    """
    import onnx
    from onnx import TensorProto, numpy_helper, version_converter

    model = onnx.load(str(model_path))
    if model.opset_import[0].version < PER_CHANNEL_OPSET:
        model = version_converter.convert_version(model, PER_CHANNEL_OPSET)
    graph = model.graph

    def wide(tensor: onnx.TensorProto) -> onnx.TensorProto:
        if tensor.data_type != TensorProto.FLOAT16:
            return tensor
        return numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float32), tensor.name)

    initializers = [wide(init) for init in graph.initializer]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    for node in graph.node:
        for attr in node.attribute:
            if attr.name == "to" and attr.i == TensorProto.FLOAT16:
                attr.i = TensorProto.FLOAT
            if attr.type == onnx.AttributeProto.TENSOR:
                attr.t.CopyFrom(wide(attr.t))
    del graph.output[1:]  # rembg's sessions read the first output only; the side outputs need not be computed
    for value in [*graph.input, *graph.output, *graph.value_info]:
        if value.type.tensor_type.elem_type == TensorProto.FLOAT16:
            value.type.tensor_type.elem_type = TensorProto.FLOAT
    onnx.save(model, str(out))
    return out


def quantize(source: Path, session_name: str, target: Path) -> Path:
    """Write the int8 model of `source` (served by rembg's `session_name`) to `target`, if it passes the check
    against `source` (checked()); made beside it under a name of its own, and renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".quantizing-") as work:
        made = quantized_graph(source, session_name, Path(work) / target.name)
        verdict = Verdict(md5_of(made), md5_of(source), checked(source, made, session_name))
        os.replace(made, target)  # the file first: one without its verdict is checked again, never trusted
        verdict.keep(target)
    log.info("%s: %.1f MB, md5 %s; %s", target, target.stat().st_size / 1e6, verdict.int8_md5, verdict.found)
    return target


@dataclass(frozen=True)
class Verdict:
    """That an int8 file passed the check against its original: kept beside it, for that pair of files only."""

    int8_md5: str
    original_md5: str
    found: str  # checked()'s numbers

    @staticmethod
    def place(target: Path) -> Path:
        return target.with_name(target.name + ".checked.json")

    def keep(self, target: Path) -> None:
        """Beside the file; where it cannot be (a directory in its place, a folder not writable), a warning: the
        file passed its check, and without its verdict it is only checked again at the next start."""
        partial = target.with_name(f".{target.name}.checked.{os.getpid()}")
        try:
            partial.write_text(json.dumps(asdict(self)))
            os.replace(partial, self.place(target))
        except OSError as exc:
            partial.unlink(missing_ok=True)
            log.warning(
                "the check's verdict is not kept at %s (%s): the next start checks it again",
                self.place(target),
                exc.strerror,
            )

    @classmethod
    def kept(cls, target: Path, original_pin: str | None) -> Verdict | None:
        """The verdict kept for the file now at `target`, if it is still that file's and its original is the one
        the original's record pins (any, where nothing pins it); else None: it must be checked (again)."""
        try:
            verdict = cls(**json.loads(cls.place(target).read_text()))
        except (OSError, ValueError, TypeError, RecursionError):  # RecursionError: nested past the parser's stack
            return None
        if verdict.int8_md5 != md5_of(target) or original_pin not in (None, verdict.original_md5):
            return None
        return verdict


def ensure_checked(name: str, target: Path) -> str:
    """What the check of the int8 file at `target` against its model's original found: kept from before for
    this very pair of files, or found now (QuantizationRejected if it fails)."""
    original = record(INT8[name].original)
    verdict = Verdict.kept(target, original.md5)
    if verdict is None:
        source = fetch(ModelChoice(original.name))
        verdict = Verdict(md5_of(target), md5_of(source), checked(source, target, record(name).session))
        verdict.keep(target)
        return verdict.found
    return f"{verdict.found} (found before, for this file and {original.name} of md5 {verdict.original_md5})"


def quantized_graph(source: Path, session_name: str, out: Path) -> Path:
    """The int8 graph of `source` at `out`, calibrated as its family's int8 record says, not yet checked."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    recipe = int8_recipe(session_name)
    with tempfile.TemporaryDirectory(prefix="remove-bg-quantize-") as work:
        prepared, ranges = Path(work) / "prepared.onnx", Path(work) / "ranges.json"
        with step(f"preparing {source.name}'s graph for the quantizer"):
            quant_pre_process(
                str(quantizable(source, Path(work) / "wide.onnx")), str(prepared), skip_symbolic_shape=True
            )
        photos = list(calibration_images())[:: recipe.every]
        calibrate(prepared, calibration_feeds(session_name, source, photos), recipe, ranges, Path(work))
        with step(f"writing {out.name} in int8"):
            quantize_static(
                str(prepared),
                str(out),
                None,
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=calibration_method(recipe),
                calibration_cache_path=str(ranges),
            )
    return out


class QuantizationRejected(ModelError):
    """The int8 model's masks are too far from its original's: it is not written."""


@dataclass(frozen=True)
class Agreement:
    """How far an int8 model's mask is from its original's on one photo."""

    photo: str
    mean: float  # mean absolute difference, in grey levels (0-255)
    worst: float  # the 99.9th percentile of the absolute difference: the worst pixels but for a stray few
    iou: float  # of the two masks cut at half

    def __str__(self) -> str:
        return f"{self.photo}: mean {self.mean:.2f}/255, worst {self.worst:.0f}/255, IoU {self.iou:.4f}"


def check_images() -> Iterator[tuple[str, Image.Image]]:
    """Real photos bundled with scikit-image that the calibration does not use, each with a clear subject."""
    from skimage import data

    left, right, _ = data.stereo_motorcycle()
    for name, pixels in (("motorcycle", left), ("motorcycle, right eye", right), ("retina", data.retina())):
        yield name, Image.fromarray(pixels).convert("RGB")
    yield "clock", Image.fromarray(data.clock()).convert("RGB")


def agreement(source: Path, quantized: Path, session_name: str) -> list[Agreement]:
    """Each check photo's mask from `quantized` against its mask from `source`, through rembg's own session."""
    import onnxruntime as ort

    photos = list(check_images())
    session = new_session(session_name, ort.SessionOptions(), str(source))
    originals = [
        np.asarray(session.predict(photo)[0], dtype=np.float32)
        for _, photo in shown(photos, "the original's masks of the check photos", "photos")
    ]
    # The same session's pre- and post-processing around the int8 graph (which may lie outside U2NET_HOME,
    # where rembg's custom sessions would not load it: the image build writes it to its own models folder).
    session.inner_session = ort.InferenceSession(str(quantized), providers=["CPUExecutionProvider"])
    found = []
    for (name, photo), theirs in shown(list(zip(photos, originals, strict=True)), "checking the int8 model", "photos"):
        ours = np.asarray(session.predict(photo)[0], dtype=np.float32)
        difference = np.abs(ours - theirs)
        both, either = ((ours >= 128) & (theirs >= 128)).sum(), ((ours >= 128) | (theirs >= 128)).sum()
        found.append(
            Agreement(name, float(difference.mean()), float(np.percentile(difference, 99.9)), both / max(1, either))
        )
    return found


def checked(source: Path, quantized: Path, session_name: str) -> str:
    """What the check found; QuantizationRejected with every photo's numbers where any photo is past a limit."""
    found = agreement(source, quantized, session_name)
    worst_mean, worst_iou = max(each.mean for each in found), min(each.iou for each in found)
    summary = "; ".join(str(each) for each in found)
    if worst_mean > CHECK_MEAN_LIMIT or worst_iou < CHECK_IOU_LIMIT:
        raise QuantizationRejected(
            f"the int8 model of {source} is too far from it (limits: mean {CHECK_MEAN_LIMIT}/255, IoU "
            f"{CHECK_IOU_LIMIT} on every photo): {summary}"
        )
    return f"checked against its original: {summary}"


def calibrate(model: Path, feeds: list[dict[str, np.ndarray]], recipe: Int8, ranges: Path, work: Path) -> None:
    """Each activation's range, one calibration input at a time, written where quantize_static reads ranges.

    One at a time, because a percentile's histogram calibrator otherwise holds every activation of
    every input at once: for ISNet at 1024², gigabytes per photo.
    """
    from onnxruntime.quantization.calibrate import create_calibrator
    from onnxruntime.quantization.quantize import save_tensors_data

    with step("adding the calibration's outputs to the graph"):
        calibrator = create_calibrator(
            model,
            None,
            augmented_model_path=str(work / "augmented.onnx"),
            calibrate_method=calibration_method(recipe),
            extra_options=calibration_options(recipe),
        )
    for feed in shown(feeds, "calibrating: each activation's range", "photos"):
        with quiet():
            calibrator.collect_data(Feeds([feed]))
    with step("computing the ranges"):
        save_tensors_data(calibrator.compute_data(), ranges)


def made(name: str, target: Path | None = None) -> Path:
    """One of the function's int8 models (QUANTIZED_MODELS) at `target` (its own place by default), made from its
    fetched original if absent, checked against it once if present (fetch() makes its optimised copy)."""
    target = target or quantized_file(name)
    if target.is_file():  # made before, here or elsewhere: held to the same check as a new one
        log.info("%s: %s", target, ensure_checked(name, target))
    else:
        quantize(fetch(ModelChoice(INT8[name].original)), record(name).session, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m function.prepare.quantize", description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", choices=sorted(QUANTIZED_MODELS), help="one of the function's int8 models")
    parser.add_argument("--force", action="store_true", help="make it again even if it is there")
    parser.add_argument("--source", type=Path, help="quantize this file instead (with --session and --out)")
    sessions = sorted({record(name).session for name in QUANTIZED_MODELS})
    parser.add_argument("--session", choices=sessions, help="rembg's session for it")
    parser.add_argument(
        "--out", type=Path, help="where to write it (a model's default: U2NET_HOME/custom/<model>.onnx)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.source is not None:
            if args.session is None or args.out is None:
                parser.error("--source needs --session and --out")
            print(quantize(args.source, args.session, args.out))
            return 0
        if args.model is None:
            parser.error("name a model, or give --source")
        target = args.out or quantized_file(args.model)
        if args.force:
            target.unlink(missing_ok=True)
        print(fetch(ModelChoice(args.model)) if args.out is None else made(args.model, target))
    except ModelError as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
