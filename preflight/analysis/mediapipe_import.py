"""Importing mediapipe's legacy solutions without what the analysis never uses.

``import mediapipe`` runs ``mediapipe/__init__.py``, which imports every solution, the drawing
utilities (and with them ``matplotlib.pyplot``) and the Tasks API: about half a second of a cold
single-image check, measured with ``python -X importtime``. Here the two package ``__init__``
files are deferred instead: the packages are created empty, with their real search paths, so
``mediapipe.python.solutions.pose`` and the framework modules import as usual; the first time
anything asks such a package for a name it does not hold yet (``mediapipe.solutions``,
``mediapipe.__version__``), its real ``__init__`` runs then. Code in the same process that uses
mediapipe as documented sees no difference.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import threading
import types

_DEFERRED = ("mediapipe", "mediapipe.python.solutions")
_lock = threading.RLock()
# Names that tools look for on any module (doctest, inspect, pytest); the real __init__ files
# define none of them, so asking must not run them. Any other name (``__version__`` too) does.
_PROBES = frozenset({"__wrapped__", "__test__", "__bases__", "__origin__"})
_pending: dict[str, tuple[types.ModuleType, object]] = {}  # package name: (its module, its loader)


def _run_deferred() -> None:
    """Run the deferred __init__ files, the inner one first, as a plain ``import mediapipe`` would
    have (the outer one deletes names the inner one's imports bound)."""
    with _lock:
        for name in reversed(_DEFERRED):
            if name in _pending:
                module, loader = _pending.pop(name)
                del module.__dict__["__getattr__"]
                loader.exec_module(module)


def _deferred_package(name: str) -> types.ModuleType | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or not spec.submodule_search_locations:
        return None
    module = types.ModuleType(name)
    module.__spec__ = spec
    module.__file__ = spec.origin
    module.__loader__ = spec.loader
    module.__path__ = list(spec.submodule_search_locations)
    module.__package__ = name

    def __getattr__(attribute: str):
        if attribute in _PROBES:
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}")
        if importlib.machinery.PathFinder.find_spec(attribute, module.__path__) is not None:
            # A submodule (``from mediapipe.python.solutions import download_utils``): imported
            # as such, the __init__ still deferred.
            return importlib.import_module(f"{name}.{attribute}")
        _run_deferred()
        return getattr(module, attribute)  # a name the real __init__ does not define: AttributeError

    module.__getattr__ = __getattr__
    _pending[name] = (module, spec.loader)
    return module


def defer_package_inits() -> None:
    """Make ``mediapipe`` and ``mediapipe.python.solutions`` the deferred packages described
    above, unless mediapipe is imported already. Call before importing any mediapipe module."""
    with _lock:
        if "mediapipe" in sys.modules:
            return
        for package in _DEFERRED:
            if package == "mediapipe.python.solutions":
                importlib.import_module("mediapipe.python")  # find_spec of a subpackage imports its parent
            module = _deferred_package(package)
            if module is None:
                return
            sys.modules[package] = module


def load_solution(name: str):
    """``mediapipe.python.solutions.<name>`` (pose, face_detection), imported lightly."""
    defer_package_inits()
    return importlib.import_module(f"mediapipe.python.solutions.{name}")
