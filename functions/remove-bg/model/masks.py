"""One mask per image: what a model without a record must show at start, before health says 200.

The function cuts one subject out of each image: a session that returns several masks (rembg's
u2net_cloth_seg gives three: upper, lower and full clothes) would answer every request with a
500 while health said 200. A recorded model is known to give one (records.py); a rembg session
without a record (served on the operator's opt-in) is run once at start on a small real photo,
and refused with a ValueError, which the template turns into exit 2 as for a bad setting.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession

log = logging.getLogger(__name__)

# scikit-image's astronaut (Eileen Collins, a NASA photo in the public domain), 64×64: a real photo with a subject.
PHOTO = Path(__file__).with_name("photo.jpg")


class SeveralMasks(ValueError):
    """The model gives more (or fewer) than one mask per image: the wrong model for this function."""


def one_mask(name: str, session: BaseSession) -> None:
    """SeveralMasks unless `session` gives exactly one mask for the photo."""
    with Image.open(PHOTO) as photo:
        masks = session.predict(photo.convert("RGB"))
    if len(masks) != 1:
        raise SeveralMasks(
            f"model {name!r} gives {len(masks)} masks per image (tried on one photo at start); this function "
            "cuts one subject out of each image: choose a model that gives one mask"
        )
    log.info("model %s gives one mask per image (tried on one photo at start: it has no record here)", name)
