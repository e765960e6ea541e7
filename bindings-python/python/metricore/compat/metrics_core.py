"""``prometheus_client.metrics_core``."""

from .._families import (
    METRIC_TYPES,
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
    StateSetMetricFamily,
    SummaryMetricFamily,
    UnknownMetricFamily,
    UntypedMetricFamily,
)

__all__ = (
    "METRIC_TYPES", "CounterMetricFamily", "GaugeHistogramMetricFamily", "GaugeMetricFamily",
    "HistogramMetricFamily", "InfoMetricFamily", "Metric", "StateSetMetricFamily",
    "SummaryMetricFamily", "UnknownMetricFamily", "UntypedMetricFamily",
)
