"""prometheus_client's module layout over metricore: ``metricore.install()`` makes
``import prometheus_client`` (and ``prometheus_client.core``, ``.registry``, ``.exposition``,
…) resolve here. Every name is metricore's own object; nothing is copied per module, so
``prometheus_client.REGISTRY is metricore.REGISTRY``."""

from .. import (
    CONTENT_TYPE_LATEST,
    CONTENT_TYPE_PLAIN_0_0_4,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Enum,
    GCCollector,
    Gauge,
    Histogram,
    Info,
    Metric,
    MetricsHandler,
    PlatformCollector,
    ProcessCollector,
    Summary,
    delete_from_gateway,
    disable_created_metrics,
    enable_created_metrics,
    generate_latest,
    instance_ip_grouping_key,
    make_asgi_app,
    make_wsgi_app,
    push_to_gateway,
    pushadd_to_gateway,
    start_http_server,
    start_wsgi_server,
    write_to_textfile,
)
from ..exposition import CONTENT_TYPE_PLAIN_1_0_0
from . import (  # noqa: F401 (prometheus_client's submodules are attributes of the package)
    exposition,
    gc_collector,
    metrics,
    metrics_core,
    platform_collector,
    process_collector,
    registry,
)

__all__ = (
    "CollectorRegistry", "REGISTRY", "Metric", "Counter", "Gauge", "Summary", "Histogram",
    "Info", "Enum", "enable_created_metrics", "disable_created_metrics", "CONTENT_TYPE_LATEST",
    "CONTENT_TYPE_PLAIN_0_0_4", "CONTENT_TYPE_PLAIN_1_0_0", "generate_latest", "MetricsHandler",
    "make_wsgi_app", "make_asgi_app", "start_http_server", "start_wsgi_server",
    "write_to_textfile", "push_to_gateway", "pushadd_to_gateway", "delete_from_gateway",
    "instance_ip_grouping_key", "ProcessCollector", "PROCESS_COLLECTOR", "PlatformCollector",
    "PLATFORM_COLLECTOR", "GCCollector", "GC_COLLECTOR",
)
