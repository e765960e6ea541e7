"""metricore: prometheus_client-shaped metrics on a native core.

Change one import::

    from metricore import Counter, Gauge, Histogram, Summary, Info, Enum, generate_latest

and every increment, set and observation runs in Rust: lock-free counters and gauges, HDR
histograms with exact Prometheus buckets and any quantile, mergeable across processes and
languages through HdrHistogram V2 blobs. On top of the prometheus_client API: quantiles and
latency statistics in milliseconds, sliding windows, meters, registry snapshots as dicts, the
resource sampler and ``profile_operation``.

Errors derive from ``MetricoreError``; invalid input also derives from ``ValueError`` (or
``TypeError``), and every message names the metric.
"""

from ._native import (
    DEFAULT_BUCKETS,
    REGISTRY,
    CollectorFailedError,
    CollectorRegistry,
    ConflictError,
    CorruptBlobError,
    Counter,
    Gauge,
    Histogram,
    HistogramSnapshot,
    InvalidConfigError,
    InvalidExemplarError,
    InvalidLabelsError,
    InvalidNameError,
    InvalidValueError,
    Meter,
    MetricoreError,
    MetricTypeError,
    Sampler,
    Throughput,
    __version__,
    negotiate,
)
from ._metrics import Enum, Info, Summary
from ._profile import profile_operation
from .exposition import (
    CONTENT_TYPE_LATEST,
    CONTENT_TYPE_OPENMETRICS,
    CONTENT_TYPE_PLAIN_0_0_4,
    choose_encoder,
    generate_latest,
    generate_latest_openmetrics,
    make_asgi_app,
    make_wsgi_app,
    start_http_server,
    start_wsgi_server,
    write_to_textfile,
)

#: metricore's own name for a registry.
Registry = CollectorRegistry

__all__ = [
    "CONTENT_TYPE_LATEST",
    "CONTENT_TYPE_OPENMETRICS",
    "CONTENT_TYPE_PLAIN_0_0_4",
    "DEFAULT_BUCKETS",
    "REGISTRY",
    "CollectorFailedError",
    "CollectorRegistry",
    "ConflictError",
    "CorruptBlobError",
    "Counter",
    "Enum",
    "Gauge",
    "Histogram",
    "HistogramSnapshot",
    "Info",
    "InvalidConfigError",
    "InvalidExemplarError",
    "InvalidLabelsError",
    "InvalidNameError",
    "InvalidValueError",
    "Meter",
    "MetricTypeError",
    "MetricoreError",
    "Registry",
    "Sampler",
    "Summary",
    "Throughput",
    "__version__",
    "choose_encoder",
    "generate_latest",
    "generate_latest_openmetrics",
    "make_asgi_app",
    "make_wsgi_app",
    "negotiate",
    "profile_operation",
    "start_http_server",
    "start_wsgi_server",
    "write_to_textfile",
]
