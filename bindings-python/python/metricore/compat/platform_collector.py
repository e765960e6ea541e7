"""``prometheus_client.platform_collector``."""

from .._defaults import PLATFORM_COLLECTOR, PlatformCollector

__all__ = ("PlatformCollector", "PLATFORM_COLLECTOR")
