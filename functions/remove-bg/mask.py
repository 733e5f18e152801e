"""The model's mask for a picture, at the picture's size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession


def predict_mask(session: BaseSession, rgb: Image.Image) -> Image.Image:
    """An "L" mask the size of `rgb`: 255 is foreground, exactly as rembg computes it."""
    masks = session.predict(rgb)
    if len(masks) != 1:
        raise RuntimeError(f"model {session.model_name} gave {len(masks)} masks, expected 1")
    return masks[0]
