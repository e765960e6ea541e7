"""``prometheus_client.process_collector``."""

from .._defaults import PROCESS_COLLECTOR, ProcessCollector

__all__ = ("ProcessCollector", "PROCESS_COLLECTOR")
