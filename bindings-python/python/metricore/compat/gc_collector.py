"""``prometheus_client.gc_collector``."""

from .._defaults import GC_COLLECTOR, GCCollector

__all__ = ("GCCollector", "GC_COLLECTOR")
