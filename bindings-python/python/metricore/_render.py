"""The text formats for families that do not live in the core's registry: a custom
collector's ``Metric`` objects, or a restricted view of a registry. The core writes them
(``_native.render_samples``) in prometheus_client's spelling; this only hands them over."""

from __future__ import annotations

from typing import Iterable

from . import _native
from ._families import Metric


def text(metrics: Iterable[Metric]) -> bytes:
    """The Prometheus text format 0.0.4, as prometheus_client writes it."""
    return _native.render_samples(list(metrics), False)


def openmetrics(metrics: Iterable[Metric]) -> bytes:
    """OpenMetrics 1.0.0, as prometheus_client writes it (ends with ``# EOF``)."""
    return openmetrics_families(metrics) + b"# EOF\n"


def openmetrics_families(metrics: Iterable[Metric]) -> bytes:
    """The OpenMetrics families, without the closing ``# EOF``."""
    return _native.render_samples(list(metrics), True)
