"""``prometheus_client.core``."""

from .._families import (
    BucketSpan,
    CounterMetricFamily,
    Exemplar,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
    NativeHistogram,
    Sample,
    StateSetMetricFamily,
    SummaryMetricFamily,
    Timestamp,
    UnknownMetricFamily,
    UntypedMetricFamily,
)
from .._registry import REGISTRY, CollectorRegistry, DuplicateTimeseries
from .metrics import Counter, Enum, Gauge, Histogram, Info, Summary

__all__ = (
    "BucketSpan", "CollectorRegistry", "Counter", "CounterMetricFamily", "DuplicateTimeseries",
    "Enum", "Exemplar", "Gauge", "GaugeHistogramMetricFamily", "GaugeMetricFamily", "Histogram",
    "HistogramMetricFamily", "Info", "InfoMetricFamily", "Metric", "NativeHistogram", "REGISTRY",
    "Sample", "StateSetMetricFamily", "Summary", "SummaryMetricFamily", "Timestamp",
    "UnknownMetricFamily", "UntypedMetricFamily",
)
