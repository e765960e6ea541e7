"""``prometheus_client.metrics``."""

from .. import Counter, Enum, Gauge, Histogram, Info, Summary
from .._registry import REGISTRY, disable_created_metrics, enable_created_metrics, use_created


def _get_use_created() -> bool:
    return use_created()


__all__ = (
    "Counter", "Enum", "Gauge", "Histogram", "Info", "REGISTRY", "Summary",
    "disable_created_metrics", "enable_created_metrics",
)
