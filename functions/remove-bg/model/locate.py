"""Which model the operator chose, and where its file is: found, never fetched.

rembg decides where a model lives (under U2NET_HOME) and downloads it on first use. A server
must never download at start-up, so `locate` asks rembg's own lookup for the file and fails with
instructions when it is not there. rembg's custom sessions (`dis_custom`, `u2net_custom`) take
the operator's own file instead, which may be pinned by its md5, and serve the int8 models from
their own place (U2NET_HOME/custom).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .digest import ModelError
from .records import OPERATOR, QUANTIZED, QUANTIZED_MODELS, Record, record
from .sessions import registry

if TYPE_CHECKING:
    from rembg.sessions.base import BaseSession


class ModelMissing(ModelError):
    pass


# What the operator of an image can do about a model it lacks: a pod never downloads or makes one.
_REMEDY = (
    "nothing is downloaded or made when the server starts; build the image with it (`make image MODEL={name}`, "
    "docs/deploy.md), or mount a models folder that holds it at U2NET_HOME"
)


@dataclass(frozen=True)
class ModelChoice:
    """A model by name, and for the custom sessions the operator's file; optionally md5-pinned."""

    name: str
    path: Path | None = None  # REMBG_MODEL_PATH: the file a custom session loads
    md5: str | None = None  # REMBG_MODEL_MD5: the file must have this md5, checked before it is loaded

    @property
    def record(self) -> Record:
        return record(self.name)

    @property
    def label(self) -> str:
        """How responses, logs and metrics name it: its name, with the file's for a custom session."""
        return f"{self.name}:{self.path.name}" if self.path is not None else self.name

    @property
    def session(self) -> str:
        """rembg's session that serves it: its own name, or for an int8 model its family's custom session."""
        return self.record.session

    @property
    def custom(self) -> bool:
        """Whether rembg loads it from a given file (REMBG_MODEL_PATH, or an int8 model's own place)."""
        return record(self.session).source == OPERATOR


def usable_models() -> list[str]:
    """The names this function serves: rembg's local sessions without credentials that give one mask per
    image, and the int8 models."""
    sessions = registry()
    return sorted(
        [
            key
            for key, value in sessions.items()
            if record(key).supported and value.is_local() and not value.requires_credentials()
        ]
        + list(QUANTIZED_MODELS)
    )


def session_class(name: str) -> type[BaseSession]:
    """rembg's session class for a model name (an int8 model's: its family's custom session), if served."""
    usable = usable_models()
    if name not in usable:
        raise ModelError(f"REMBG_MODEL={name!r} is not a model this function serves; use one of: {', '.join(usable)}")
    return registry()[record(name).session]


def home_of(choice: ModelChoice) -> Path:
    """rembg's models directory (U2NET_HOME), where custom files and optimised copies must lie."""
    return Path(session_class(choice.name).rembg_home())


def quantized_file(name: str) -> Path:
    """Where an int8 model's file lives: U2NET_HOME/custom/<name>.onnx, under rembg's models directory."""
    return home_of(ModelChoice(name)) / "custom" / f"{name}.onnx"


def locate(choice: ModelChoice) -> Path:
    """The model's file on disk: the operator's, or the one rembg's own lookup finds; ModelMissing if absent."""
    base = session_class(choice.name)
    if choice.record.source == QUANTIZED and choice.path is None:
        path = quantized_file(choice.name)
        if not path.is_file():
            raise ModelMissing(f"model {choice.name!r} is not at {path}: {_REMEDY.format(name=choice.name)}")
        return path
    if choice.custom:
        return _custom_file(choice, base)

    class _LookupOnly(base):  # type: ignore[valid-type, misc]
        """rembg's download_models, stopped where it would start a download."""

        @classmethod
        def resolve_existing(cls, fname: str, *args: object, **kwargs: object) -> str | None:
            found = super().resolve_existing(fname, *args, **kwargs)
            if found is None:
                raise ModelMissing(
                    f"model {choice.name!r} ({fname}) is not in {cls.model_dir()}: " + _REMEDY.format(name=choice.name)
                )
            return found

    return Path(_LookupOnly.download_models())


def _custom_file(choice: ModelChoice, base: type[BaseSession]) -> Path:
    """The operator's file, where rembg's custom sessions accept one: under its models directory."""
    if choice.path is None:
        raise ModelError(f"REMBG_MODEL={choice.name} loads the operator's file: set REMBG_MODEL_PATH")
    try:
        path = Path(base.validate_model_path(model_path=str(choice.path)))
    except ValueError:
        raise ModelError(
            f"REMBG_MODEL_PATH={choice.path} is outside the models directory {base.rembg_home()}: "
            "rembg loads custom models only from under U2NET_HOME"
        ) from None
    if not path.is_file():
        raise ModelMissing(f"REMBG_MODEL_PATH={choice.path}: no such file (mount or copy the model there)")
    return path
