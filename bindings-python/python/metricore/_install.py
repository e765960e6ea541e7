"""``install()``: makes ``import prometheus_client`` (and its submodules) resolve to
metricore's compatibility layer, ``metricore.compat``, in this process."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Optional, Sequence

_PREFIX = "prometheus_client"
_TARGET = "metricore.compat"


class _Loader(importlib.abc.Loader):
    """Hands out the compat module itself, so ``prometheus_client.X`` and
    ``metricore.compat.X`` are one module object (one registry, one set of classes)."""

    def __init__(self, target: str) -> None:
        self._target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self._target)

    def exec_module(self, module: ModuleType) -> None:
        """The module ran when it was imported under its own name."""


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Optional[Sequence[str]] = None, target: Optional[ModuleType] = None
    ) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname != _PREFIX and not fullname.startswith(_PREFIX + "."):
            return None
        target_name = _TARGET + fullname[len(_PREFIX):]
        if importlib.util.find_spec(target_name) is None:
            return None
        module = importlib.import_module(target_name)
        return importlib.machinery.ModuleSpec(
            fullname, _Loader(target_name), is_package=hasattr(module, "__path__")
        )


_FINDER = _Finder()


def install() -> None:
    """Makes ``prometheus_client`` and its submodules (``prometheus_client.core``,
    ``.registry``, ``.exposition``, ``.metrics``, ``.openmetrics.exposition``, …) resolve to
    ``metricore.compat`` in this process. Call it once at start-up, before any library that
    imports ``prometheus_client`` is imported; calling it again does nothing.

    Raises:
        ImportError: the real ``prometheus_client`` was imported already (its objects would
            live beside metricore's).
    """
    if _FINDER in sys.meta_path:
        return
    loaded = sorted(n for n in sys.modules if n == _PREFIX or n.startswith(_PREFIX + "."))
    real = [n for n in loaded if not getattr(sys.modules[n], "__name__", "").startswith(_TARGET)]
    if real:
        raise ImportError(
            "metricore.install() must run before prometheus_client is imported; already imported: "
            + ", ".join(real)
        )
    sys.meta_path.insert(0, _FINDER)
