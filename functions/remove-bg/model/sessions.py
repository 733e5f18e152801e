"""rembg's sessions, imported without rembg's `remove()` and without its SAM session.

`import rembg` runs rembg/__init__.py, which imports `remove()` and with it pymatting (so numba
and llvmlite), scipy's and scikit-image's image code; and rembg/sessions/__init__.py imports
every session, SAM's with scipy.ndimage and jsonschema. That was most of a start-up's import
time and more than half of the image (docs/deploy.md, Start-up and image), for alpha matting and a
prompted model this function never runs. So both packages are registered bare (their path,
their __init__ not run), the session modules are imported one by one (SAM's left out), and the
names rembg/sessions/__init__.py would bind are bound, so that rembg's own session factory works
on them. The first use of any other name either __init__ defines (`rembg.remove`, in the tests
and benchmarks) runs that __init__ then, in place: code that wants the whole of rembg gets it.
The image installs rembg without pymatting, scikit-image and scipy
(functions/remove-bg/requirements.txt).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import pkgutil
import sys
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnxruntime as ort
    from rembg.sessions.base import BaseSession

# If rembg's __init__ does run (a caller asked for remove()), pymatting must not compile its numba
# code at import (35 s): set before rembg is first imported; the image sets it too, in its Dockerfile.
os.environ.setdefault("NUMBA_DISABLE_JIT", "1")

LEFT_OUT = frozenset({"sam"})  # a prompted model the function does not serve (its record in records.py)


def _bare(name: str) -> ModuleType:
    """Register a package without running its __init__ (unless it is imported already); return it."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"{name} is not installed", name=name)
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    if parent:  # as the import system binds a submodule on its parent
        setattr(sys.modules[parent], child, package)
    return package


def _completed_on_first_use(package: ModuleType) -> None:
    """PEP 562: a name the bare package lacks runs its own __init__ in place, once."""

    def complete(name: str) -> object:
        del package.__getattr__
        package.__spec__.loader.exec_module(package)
        return getattr(package, name)

    package.__getattr__ = complete  # type: ignore[attr-defined]


def registry() -> dict[str, type[BaseSession]]:
    """rembg's session classes by model name."""
    already = sys.modules.get("rembg.sessions")
    if already is not None and "sessions" in vars(already):
        return already.sessions
    rembg = _bare("rembg")
    package = _bare("rembg.sessions")
    base = importlib.import_module("rembg.sessions.base").BaseSession
    found: dict[str, type[BaseSession]] = {}
    pending = sorted(info.name for info in pkgutil.iter_modules(package.__path__) if info.name not in LEFT_OUT)
    while pending:
        imported = []
        for name in pending:
            try:
                module = importlib.import_module(f"rembg.sessions.{name}")
            except ImportError:  # it imports a class from the package that a later module binds
                continue
            imported.append(name)
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, base) and value.__module__ == module.__name__:
                    setattr(package, value.__name__, value)
                    with contextlib.suppress(NotImplementedError):  # a base class of other sessions
                        found[value.name()] = value
        if not imported:
            raise ImportError(f"rembg's session modules {pending} cannot be imported")
        pending = [name for name in pending if name not in imported]
    package.sessions = found
    package.sessions_class = list(found.values())
    package.sessions_names = list(found)
    _completed_on_first_use(package)
    _completed_on_first_use(rembg)
    return found


def new_session(name: str, options: ort.SessionOptions, model_path: str | None) -> BaseSession:
    """rembg's session for a model name; `model_path` for its custom sessions."""
    registry()
    from rembg.session_factory import new_session as rembg_new_session

    extra = {} if model_path is None else {"model_path": model_path}
    return rembg_new_session(name, sess_opts=options, **extra)
