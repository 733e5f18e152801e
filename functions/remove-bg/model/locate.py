"""Which model the operator chose, and where its file is: found, never fetched.

rembg decides where a model lives (under U2NET_HOME) and downloads it on first use. A server
must never download at start-up, so `locate` asks rembg's own lookup for the file and fails with
instructions when it is not there. rembg's custom sessions (`dis_custom`, `u2net_custom`) take
a given file instead: the operator's own model's, a file that stands in for a recorded model's own
(REMBG_MODEL_PATH, either may be pinned by its md5), or an int8 model's, from its own place
(U2NET_HOME/custom).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .digest import ModelError
from .records import DOWNLOAD, OPERATOR, QUANTIZED, QUANTIZED_MODELS, Record, record
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
    """A model by name, and a file given for it (REMBG_MODEL_PATH); optionally md5-pinned.

    The file is the operator's own model's (dis_custom, u2net_custom: a model with no file of its
    own), or a file that stands in for a recorded model's own (isnet-general-use-int8 with a file
    made elsewhere): the model is then still the record's in all else (arena, label, checks).
    """

    name: str
    path: Path | None = None  # REMBG_MODEL_PATH: the file its family's custom session loads
    md5: str | None = None  # REMBG_MODEL_MD5: the file must have this md5, checked before it is loaded

    @property
    def record(self) -> Record:
        return record(self.name)

    @property
    def stands_in(self) -> bool:
        """Whether the given file stands in for the record's own (a model with no file of its own has none)."""
        return self.path is not None and self.record.source != OPERATOR

    @property
    def label(self) -> str:
        """How responses, logs and metrics name it: its name, with the file's for the operator's own model."""
        return f"{self.name}:{self.path.name}" if self.path is not None and not self.stands_in else self.name

    @property
    def session(self) -> str:
        """rembg's session that serves it: its record's (an int8 model's is its family's custom session); with a
        file given, its family's custom session, which loads that file."""
        return self.record.family if self.path is not None and self.record.family else self.record.session

    @property
    def custom(self) -> bool:
        """Whether rembg's session is given the file it loads: REMBG_MODEL_PATH's, or an int8 model's from its
        own place. The one place that decides it: else rembg's own lookup finds the file by the model's name."""
        return self.path is not None or self.record.source != DOWNLOAD

    @property
    def pins(self) -> tuple[str, ...]:
        """The md5s its file must have: REMBG_MODEL_MD5's, and its record's for its own file (not a stand-in)."""
        own = self.record.md5 if self.path is None else None
        return tuple(dict.fromkeys(md5 for md5 in (self.md5, own) if md5 is not None))


def usable_models() -> list[str]:
    """The names this function serves as they are: the recorded ones among rembg's local sessions without
    credentials, and the int8 models. The others only on the operator's opt-in (unrecorded_models())."""
    return sorted([key for key in _local_sessions() if record(key).recorded] + list(QUANTIZED_MODELS))


def unrecorded_models() -> list[str]:
    """rembg's local sessions without credentials and without a record here (birefnet-*, bria-rmbg, …): never
    measured against the function's 2 GB pod, served only with REMBG_UNRECORDED_MODEL=on."""
    return sorted(key for key in _local_sessions() if not record(key).recorded)


def _local_sessions() -> list[str]:
    return [
        key
        for key, value in registry().items()
        if record(key).supported and value.is_local() and not value.requires_credentials()
    ]


def session_class(name: str) -> type[BaseSession]:
    """rembg's session class for a model name (an int8 model's: its family's custom session), if served (the
    opt-in to an unrecorded one is the settings' to check: config.py)."""
    usable = sorted(usable_models() + unrecorded_models())
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
