"""The model's mask for a picture, at the picture's size, without full-resolution model work.

rembg's predict() squashes the picture to the model's input size with LANCZOS, runs the model,
and scales the mask back to full resolution with LANCZOS. Here the picture is squashed to the
model's input size first, exactly as rembg does it, so the model sees the very same tensor (a
cheaper reduce moved the mask visibly); predict() then has nothing to resize, and the small mask
is scaled up once, bilinearly, which is faster than LANCZOS and stays within rembg's parity.

A second, whole-subject model (the core model) may add what it is sure of: a model drawn to
fine structure (ISNet) finds hair and mesh but can leave a smooth body half transparent or out
altogether, which a salient-object model (u2net) finds whole and sure (docs/quality.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from ..deadline import Deadline
from ..model.stop import make_stoppable, stopped_at

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession

# Models whose ONNX input has no fixed size get a picture whose longer side is this.
DYNAMIC_INPUT_SIDE = 1024
# The core model's mask counts from here (nothing) to 255 (all of it): what it is only half sure
# of adds nothing, and the ramp leaves no step where its sure part ends.
CORE_FROM = 128
# The model's own mask must say more than this (0-255) for the core model to raise it: up to it, the
# faint haze a model leaves over a background is a "no", and a core that took that background for the
# subject filled it in whole (docs/quality.md, The core's merge).
RULED_OUT_UP_TO = 8


@dataclass(frozen=True)
class Mask:
    full: Image.Image  # "L" at the picture's size: 255 is foreground
    small: Image.Image  # the model's own mask, which `full` is scaled up from


class Masker:
    def __init__(self, session: BaseSession, core: BaseSession | None = None) -> None:
        self._session = session
        self._core = core
        self._sessions = [session] if core is None else [session, core]
        for each in self._sessions:
            make_stoppable(each)
        self._input_size = model_input_size(session)

    def mask(self, rgb: Image.Image, deadline: Deadline | None = None) -> Mask:
        """The mask of `rgb`, at its size and at the model's; DeadlineExceeded once `deadline` (if any) passes."""
        size = self._input_size or _fit(rgb.size, DYNAMIC_INPUT_SIDE)
        small_picture = rgb.resize(size, Image.Resampling.LANCZOS)
        with stopped_at(deadline, self._sessions, "mask"):
            small = _only(self._session, small_picture)
            if self._core is not None:  # its predict() resizes to its own input and back, as rembg's does
                small = with_core(small, _only(self._core, small_picture))
        return Mask(full=small.resize(rgb.size, Image.Resampling.BILINEAR), small=small)


def with_core(mask: Image.Image, core: Image.Image, ruled_out_up_to: int = RULED_OUT_UP_TO) -> Image.Image:
    """`mask`, raised to the core model's sure foreground wherever the model said more than `ruled_out_up_to`.

    Where the model says next to nothing it has ruled the pixel out, and the core model's confident
    mistakes (a background object it takes for the subject) stay out too. The function serves
    RULED_OUT_UP_TO; `python -m bench.merge` scores the others.
    """
    ours = np.asarray(mask, dtype=np.float32)
    theirs = np.asarray(core, dtype=np.float32)
    sure = theirs * np.clip((theirs - CORE_FROM) / (255 - CORE_FROM), 0, 1)
    raised = np.where(ours > ruled_out_up_to, np.maximum(ours, sure), ours)
    return Image.fromarray(np.rint(raised).astype(np.uint8))


def _only(session: BaseSession, picture: Image.Image) -> Image.Image:
    masks = session.predict(picture)
    if len(masks) != 1:
        raise RuntimeError(f"model {session.model_name} gave {len(masks)} masks, expected 1")
    return masks[0]


def model_input_size(session: BaseSession) -> tuple[int, int] | None:
    """(width, height) of the model's NCHW image input, if the ONNX graph fixes it."""
    shape = session.inner_session.get_inputs()[0].shape
    if len(shape) == 4 and all(isinstance(side, int) and side > 0 for side in shape[2:]):
        return (shape[3], shape[2])
    return None


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, longest / max(width, height))
    return (max(1, round(width * scale)), max(1, round(height * scale)))
