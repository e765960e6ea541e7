"""``prometheus_client.registry``."""

from typing import Any, Iterable

from .._families import Metric
from .._registry import REGISTRY, CollectorRegistry, DuplicateTimeseries, RestrictedRegistry


class Collector:
    """What ``CollectorRegistry.register`` takes: an object with ``collect()``."""

    def collect(self) -> Iterable[Metric]:
        raise NotImplementedError

    def describe(self) -> Iterable[Metric]:
        return []


_ = Any
__all__ = ("Collector", "CollectorRegistry", "DuplicateTimeseries", "REGISTRY", "RestrictedRegistry")
