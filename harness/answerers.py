"""What make quality and make models send images to: the function as the server drives it,
rembg's own remove() (the published baselines' reference), and MODNet through the function's
own pipeline (a portrait-matting model rembg has no session for, measured here to decide
whether to offer it).

Models are named as harness/models.py names them (`u2net`, `isnet`, `isnet+u2netp`…); whatever
file a name needs is fetched, md5-checked, when it is started.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from PIL import Image
from werkzeug.datastructures import Headers

from function import handler
from function.config import Settings
from function.deadline import Deadline
from function.picture.decode import decode
from function.pipeline import Pipeline, PipelineOptions
from function.process.cpu import usable_cpus
from function.request.routes import OWN
from harness import isnet, models
from harness.modnet import fetch_modnet

MODNET = "modnet"
# MODNet's own inference resizes so that a side is this, both sides a multiple of 32.
MODNET_REFERENCE_SIDE = 512
MODNET_STRIDE = 32


@dataclass
class Event:
    body: bytes
    query: dict[str, str]
    headers: Headers = field(default_factory=Headers)
    method: str = "POST"
    path: str = "/"


@dataclass
class Context:
    call_id: str = "bench"
    fields: dict[str, Any] = field(default_factory=dict)


class Answerer:
    """One model, loaded once; answer() gives the bytes a request with `query` would get, and the time."""

    model = ""

    def answer(self, body: bytes, query: dict[str, str]) -> tuple[bytes, float]:
        started = time.perf_counter()
        out = self._answer(body, query)
        return out, time.perf_counter() - started

    def cutout(self, query: dict[str, str]) -> Callable[[bytes], bytes]:
        """answer() with `query`, as a function of the body alone."""
        return lambda body: self.answer(body, query)[0]

    def stop(self) -> None:
        """Let the model go (nothing to do for most)."""

    def _answer(self, body: bytes, query: dict[str, str]) -> bytes:
        raise NotImplementedError


class Function(Answerer):
    """The remove-bg function for one model, started as the server starts it."""

    def __init__(self, model: str, env: dict[str, str]) -> None:
        self.model = model
        self._function = handler.new()
        self._function.start(models.environment(env, model))

    def _answer(self, body: bytes, query: dict[str, str]) -> bytes:
        result = self._function.handle(Event(body=body, query=query), Context())
        if result["statusCode"] != 200:
            raise RuntimeError(f"{self.model}: {result['statusCode']} {result['body'][:200]!r}")
        return result["body"]

    def stop(self) -> None:
        self._function.stop()


class Rembg(Answerer):
    """rembg's own remove() with a cached session."""

    def __init__(self, model: str) -> None:
        from rembg import new_session  # noqa: PLC0415 - rembg's package, remove() and its numba: the reference alone

        self.model = f"{model} (rembg remove())"
        if model == isnet.NAME:
            self._session = new_session("dis_custom", model_path=str(isnet.fetch()))
        else:
            models.settings(model)  # fetched
            self._session = new_session(model)

    def _answer(self, body: bytes, query: dict[str, str]) -> bytes:
        from rembg import remove  # noqa: PLC0415 - as above

        return remove(body, session=self._session, only_mask=query.get("only_mask") == "true")


class ModnetSession:
    """MODNet behind the interface the function's Masker uses from rembg's sessions."""

    model_name = MODNET

    def __init__(self, path: Path, threads: int) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.inner_session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def predict(self, image: Image.Image) -> list[Image.Image]:
        """The matte of `image`, at its size, as MODNet's own inference makes it."""
        width, height = image.size
        if max(width, height) < MODNET_REFERENCE_SIDE or min(width, height) > MODNET_REFERENCE_SIDE:
            scale = MODNET_REFERENCE_SIDE / min(width, height)
            width, height = round(width * scale), round(height * scale)
        size = (max(MODNET_STRIDE, width - width % MODNET_STRIDE), max(MODNET_STRIDE, height - height % MODNET_STRIDE))
        pixels = np.asarray(image.convert("RGB").resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
        tensor = ((pixels / 255 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        matte = self.inner_session.run(None, {self.inner_session.get_inputs()[0].name: tensor})[0][0, 0]
        mask = Image.fromarray(np.clip(np.rint(matte * 255), 0, 255).astype(np.uint8))
        return [mask.resize(image.size, Image.Resampling.BILINEAR)]


class Modnet(Answerer):
    """MODNet in the function's own pipeline, with the function's default settings."""

    def __init__(self, env: dict[str, str]) -> None:
        self.model = MODNET
        settings = Settings.from_env(env)
        cpus = usable_cpus()
        session = ModnetSession(fetch_modnet(), settings.threads or cpus)
        self._pipeline = Pipeline(session, PipelineOptions.of(settings, cpus))  # type: ignore[arg-type]
        self._settings = settings

    def _answer(self, body: bytes, query: dict[str, str]) -> bytes:
        """Decoded here, not by the decode worker: MODNet is measured for its masks, in one process."""
        options, settings = OWN.options(query), self._settings
        picture = decode(
            body, settings.max_input_pixels, min(settings.max_pixels, options.max_pixels or settings.max_pixels)
        )
        return self._pipeline.run(picture, options, Deadline(settings.request_seconds)).body

    def stop(self) -> None:
        self._pipeline.close()


def start(model: str, env: dict[str, str], *, reference: bool = False) -> Answerer:
    """The answerer for a model name: MODNet, rembg's remove() (`reference`), or the function."""
    if model == MODNET:
        return Modnet(env)
    return Rembg(model) if reference else Function(model, env)
