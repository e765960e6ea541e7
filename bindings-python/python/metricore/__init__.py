"""metricore: prometheus_client-shaped metrics on a native core.

Change one import::

    from metricore import Counter, Gauge, Histogram, Summary, Info, Enum, generate_latest

and every increment, set and observation runs in Rust: lock-free counters and gauges, HDR
histograms with exact Prometheus buckets and any quantile, mergeable across processes and
languages through HdrHistogram V2 blobs. Libraries that import ``prometheus_client``
themselves run on metricore too after ``metricore.install()``. On top of the prometheus_client
API: quantiles and
latency statistics in milliseconds, sliding windows, meters, registry snapshots as dicts, the
resource sampler and ``profile_operation``.

Errors derive from ``MetricoreError``; invalid input also derives from ``ValueError`` (or
``TypeError``), and every message names the metric.
"""

from . import _context, _native

# The context managers behind time(), track_inprogress() and count_exceptions() are Python
# classes the native metrics are handed here, before any metric exists.
_native.set_context_managers(_context)

from ._native import (  # noqa: E402 (after the hand-over above)
    DEFAULT_BUCKETS,
    CollectorFailedError,
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
    Summary,
    Throughput,
    __version__,
    negotiate,
)
from ._families import (  # noqa: E402
    CounterMetricFamily,
    Exemplar,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
    Sample,
    StateSetMetricFamily,
    SummaryMetricFamily,
    Timestamp,
    UnknownMetricFamily,
    UntypedMetricFamily,
)
from ._defaults import (  # noqa: E402
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from ._install import install  # noqa: E402
from ._metrics import Enum, Info  # noqa: E402
from ._profile import profile_operation  # noqa: E402
from ._registry import (  # noqa: E402
    REGISTRY,
    CollectorRegistry,
    DuplicateTimeseries,
    disable_created_metrics,
    enable_created_metrics,
)
from .exposition import (  # noqa: E402
    CONTENT_TYPE_LATEST,
    CONTENT_TYPE_OPENMETRICS,
    CONTENT_TYPE_PLAIN_0_0_4,
    MetricsHandler,
    choose_encoder,
    delete_from_gateway,
    generate_latest,
    generate_latest_openmetrics,
    instance_ip_grouping_key,
    make_asgi_app,
    make_wsgi_app,
    push_to_gateway,
    pushadd_to_gateway,
    start_http_server,
    start_wsgi_server,
    write_to_textfile,
)

#: metricore's own name for a registry.
Registry = CollectorRegistry

__all__ = [
    "GCCollector",
    "GC_COLLECTOR",
    "PLATFORM_COLLECTOR",
    "PROCESS_COLLECTOR",
    "PlatformCollector",
    "ProcessCollector",
    "CounterMetricFamily",
    "DuplicateTimeseries",
    "Exemplar",
    "GaugeHistogramMetricFamily",
    "GaugeMetricFamily",
    "HistogramMetricFamily",
    "InfoMetricFamily",
    "Metric",
    "MetricsHandler",
    "Sample",
    "StateSetMetricFamily",
    "SummaryMetricFamily",
    "Timestamp",
    "UnknownMetricFamily",
    "UntypedMetricFamily",
    "delete_from_gateway",
    "disable_created_metrics",
    "enable_created_metrics",
    "install",
    "instance_ip_grouping_key",
    "push_to_gateway",
    "pushadd_to_gateway",
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
