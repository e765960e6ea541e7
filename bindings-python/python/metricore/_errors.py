"""Raising metricore's exceptions from the pure-Python skin, with the same attributes the
native module sets (``kind``, ``metric``, ``rule``)."""

from __future__ import annotations

from typing import Optional, Type

from . import _native


def make(cls: Type[_native.MetricoreError], kind: str, metric: Optional[str], rule: str) -> _native.MetricoreError:
    """An exception of ``cls`` whose message names ``metric``."""
    message = f"metric '{metric}': {rule}" if metric is not None else rule
    exc = cls(message)
    exc.kind = kind  # type: ignore[attr-defined]
    exc.metric = metric  # type: ignore[attr-defined]
    exc.rule = rule  # type: ignore[attr-defined]
    return exc
