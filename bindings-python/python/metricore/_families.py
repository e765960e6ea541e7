"""What a collection yields, in prometheus_client's shapes: ``Metric`` (a family) holding
``Sample`` named tuples, and the ``*MetricFamily`` helpers custom collectors build them with.

A custom collector is any object with ``collect()`` (and optionally ``describe()``) returning
these; ``CollectorRegistry.register`` takes it.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union


class Timestamp:
    """A sample timestamp as whole seconds and nanoseconds (exact where a float is not)."""

    def __init__(self, sec: float, nsec: float) -> None:
        if nsec < 0 or nsec >= 1e9:
            raise ValueError(f"Invalid value for nanoseconds in Timestamp: {nsec}")
        if sec < 0:
            nsec = -nsec
        self.sec = int(sec)
        self.nsec = int(nsec)

    def __str__(self) -> str:
        return f"{self.sec}.{self.nsec:09d}"

    def __repr__(self) -> str:
        return f"Timestamp({self.sec}, {self.nsec})"

    def __float__(self) -> float:
        return float(self.sec) + float(self.nsec) / 1e9

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timestamp) and (self.sec, self.nsec) == (other.sec, other.nsec)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __gt__(self, other: "Timestamp") -> bool:
        return (self.sec, self.nsec) > (other.sec, other.nsec)

    def __lt__(self, other: "Timestamp") -> bool:
        return (self.sec, self.nsec) < (other.sec, other.nsec)

    def __hash__(self) -> int:
        return hash((self.sec, self.nsec))


class Exemplar(NamedTuple):
    labels: Dict[str, str]
    value: float
    timestamp: Optional[Union[float, Timestamp]] = None


class BucketSpan(NamedTuple):
    offset: int
    length: int


class NativeHistogram(NamedTuple):
    count_value: float
    sum_value: float
    schema: int
    zero_threshold: float
    zero_count: float
    pos_spans: Optional[Sequence[BucketSpan]] = None
    neg_spans: Optional[Sequence[BucketSpan]] = None
    pos_deltas: Optional[Sequence[int]] = None
    neg_deltas: Optional[Sequence[int]] = None
    nh_exemplars: Optional[Sequence[Exemplar]] = None


class Sample(NamedTuple):
    name: str
    labels: Dict[str, str]
    value: float
    timestamp: Optional[Union[float, Timestamp]] = None
    exemplar: Optional[Exemplar] = None
    native_histogram: Optional[NativeHistogram] = None


METRIC_TYPES = (
    "counter", "gauge", "summary", "histogram", "gaugehistogram", "unknown", "info", "stateset",
)


class Metric:
    """One family: name, documentation, type, unit and its samples."""

    def __init__(self, name: str, documentation: str, typ: str, unit: str = "") -> None:
        if unit and not name.endswith("_" + unit):
            name += "_" + unit
        if typ == "untyped":
            typ = "unknown"
        if typ not in METRIC_TYPES:
            raise ValueError("Invalid metric type: " + typ)
        self.name = name
        self.documentation = documentation
        self.unit = unit
        self.type = typ
        self.samples: List[Sample] = []

    def add_sample(
        self,
        name: str,
        labels: Dict[str, str],
        value: float,
        timestamp: Optional[Union[Timestamp, float]] = None,
        exemplar: Optional[Exemplar] = None,
        native_histogram: Optional[NativeHistogram] = None,
    ) -> None:
        self.samples.append(Sample(name, labels, value, timestamp, exemplar, native_histogram))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Metric)
            and self.name == other.name
            and self.documentation == other.documentation
            and self.type == other.type
            and self.unit == other.unit
            and self.samples == other.samples
        )

    def __repr__(self) -> str:
        return (
            f"Metric({self.name}, {self.documentation}, {self.type}, {self.unit}, {self.samples})"
        )

    def _restricted_metric(self, names: Any) -> Optional["Metric"]:
        samples = [s for s in self.samples if s.name in names]
        if not samples:
            return None
        m = Metric(self.name, self.documentation, self.type)
        m.unit = self.unit
        m.samples = samples
        return m


def _check_value_or_labels(value: Any, labels: Any, what: str) -> None:
    if labels is not None and value is not None:
        raise ValueError("Can only specify at most one of value and labels.")
    if labels is None:
        return


class UnknownMetricFamily(Metric):
    """An unknown-typed family with one value or labelled values."""

    def __init__(
        self, name: str, documentation: str, value: Optional[float] = None,
        labels: Optional[Sequence[str]] = None, unit: str = "",
    ) -> None:
        Metric.__init__(self, name, documentation, "unknown", unit)
        _check_value_or_labels(value, labels, "value")
        self._labelnames = tuple(labels or ())
        if value is not None:
            self.add_metric([], value)

    def add_metric(self, labels: Sequence[str], value: float, timestamp: Any = None) -> None:
        self.samples.append(Sample(self.name, dict(zip(self._labelnames, labels)), value, timestamp))


UntypedMetricFamily = UnknownMetricFamily


class CounterMetricFamily(Metric):
    """A counter family; the name may end in ``_total`` (it is dropped from the family)."""

    def __init__(
        self, name: str, documentation: str, value: Optional[float] = None,
        labels: Optional[Sequence[str]] = None, created: Optional[float] = None, unit: str = "",
        exemplar: Optional[Exemplar] = None,
    ) -> None:
        if name.endswith("_total"):
            name = name[:-6]
        Metric.__init__(self, name, documentation, "counter", unit)
        _check_value_or_labels(value, labels, "value")
        self._labelnames = tuple(labels or ())
        if value is not None:
            self.add_metric([], value, created, exemplar=exemplar)

    def add_metric(
        self, labels: Sequence[str], value: float, created: Optional[float] = None,
        timestamp: Any = None, exemplar: Optional[Exemplar] = None,
    ) -> None:
        d = dict(zip(self._labelnames, labels))
        self.samples.append(Sample(self.name + "_total", d, value, timestamp, exemplar))
        if created is not None:
            self.samples.append(Sample(self.name + "_created", d, created, timestamp))


class GaugeMetricFamily(Metric):
    """A gauge family with one value or labelled values."""

    def __init__(
        self, name: str, documentation: str, value: Optional[float] = None,
        labels: Optional[Sequence[str]] = None, unit: str = "",
    ) -> None:
        Metric.__init__(self, name, documentation, "gauge", unit)
        _check_value_or_labels(value, labels, "value")
        self._labelnames = tuple(labels or ())
        if value is not None:
            self.add_metric([], value)

    def add_metric(self, labels: Sequence[str], value: float, timestamp: Any = None) -> None:
        self.samples.append(Sample(self.name, dict(zip(self._labelnames, labels)), value, timestamp))


class SummaryMetricFamily(Metric):
    """A summary family: ``_count`` and ``_sum`` per series."""

    def __init__(
        self, name: str, documentation: str, count_value: Optional[int] = None,
        sum_value: Optional[float] = None, labels: Optional[Sequence[str]] = None, unit: str = "",
    ) -> None:
        Metric.__init__(self, name, documentation, "summary", unit)
        if (sum_value is None) != (count_value is None):
            raise ValueError("count_value and sum_value must be provided together.")
        if labels is not None and count_value is not None:
            raise ValueError("Can only specify at most one of value and labels.")
        self._labelnames = tuple(labels or ())
        if count_value is not None and sum_value is not None:
            self.add_metric([], count_value, sum_value)

    def add_metric(
        self, labels: Sequence[str], count_value: int, sum_value: float, timestamp: Any = None,
    ) -> None:
        d = dict(zip(self._labelnames, labels))
        self.samples.append(Sample(self.name + "_count", d, count_value, timestamp))
        self.samples.append(Sample(self.name + "_sum", d, sum_value, timestamp))


def _bucket_samples(
    name: str, labels: Dict[str, str], buckets: Sequence[Any], timestamp: Any,
) -> List[Sample]:
    out = []
    for b in buckets:
        bound, value = b[:2]
        exemplar = b[2] if len(b) == 3 else None
        out.append(Sample(name + "_bucket", {**labels, "le": bound}, value, timestamp, exemplar))
    return out


class HistogramMetricFamily(Metric):
    """A histogram family: cumulative ``(le, count[, exemplar])`` buckets ending in ``+Inf``,
    and the sum."""

    def __init__(
        self, name: str, documentation: str, buckets: Optional[Sequence[Any]] = None,
        sum_value: Optional[float] = None, labels: Optional[Sequence[str]] = None, unit: str = "",
    ) -> None:
        Metric.__init__(self, name, documentation, "histogram", unit)
        if sum_value is not None and buckets is None:
            raise ValueError("sum value cannot be provided without buckets.")
        if labels is not None and buckets is not None:
            raise ValueError("Can only specify at most one of buckets and labels.")
        self._labelnames = tuple(labels or ())
        if buckets is not None:
            self.add_metric([], buckets, sum_value)

    def add_metric(
        self, labels: Sequence[str], buckets: Sequence[Any], sum_value: Optional[float],
        timestamp: Any = None,
    ) -> None:
        d = dict(zip(self._labelnames, labels))
        self.samples.extend(_bucket_samples(self.name, d, buckets, timestamp))
        # The count is the +Inf bucket's; with negative bounds the sum means nothing, and
        # neither is written.
        if float(buckets[0][0]) >= 0 and sum_value is not None:
            self.samples.append(Sample(self.name + "_count", d, buckets[-1][1], timestamp))
            self.samples.append(Sample(self.name + "_sum", d, sum_value, timestamp))


class GaugeHistogramMetricFamily(Metric):
    """A gauge histogram family: buckets plus ``_gcount`` and ``_gsum``."""

    def __init__(
        self, name: str, documentation: str, buckets: Optional[Sequence[Any]] = None,
        gsum_value: Optional[float] = None, labels: Optional[Sequence[str]] = None,
        unit: str = "",
    ) -> None:
        Metric.__init__(self, name, documentation, "gaugehistogram", unit)
        if labels is not None and buckets is not None:
            raise ValueError("Can only specify at most one of buckets and labels.")
        self._labelnames = tuple(labels or ())
        if buckets is not None:
            self.add_metric([], buckets, gsum_value)

    def add_metric(
        self, labels: Sequence[str], buckets: Sequence[Any], gsum_value: Optional[float],
        timestamp: Any = None,
    ) -> None:
        d = dict(zip(self._labelnames, labels))
        self.samples.extend(_bucket_samples(self.name, d, buckets, timestamp))
        # Written even without a sum, which then fails at exposition, as in prometheus_client.
        self.samples.append(Sample(self.name + "_gcount", d, buckets[-1][1], timestamp))
        self.samples.append(Sample(self.name + "_gsum", d, gsum_value, timestamp))  # type: ignore[arg-type]


class InfoMetricFamily(Metric):
    """An info family: ``NAME_info`` samples whose labels carry the info, value 1."""

    def __init__(
        self, name: str, documentation: str, value: Optional[Dict[str, str]] = None,
        labels: Optional[Sequence[str]] = None,
    ) -> None:
        Metric.__init__(self, name, documentation, "info")
        _check_value_or_labels(value, labels, "value")
        self._labelnames = tuple(labels or ())
        if value is not None:
            self.add_metric([], value)

    def add_metric(self, labels: Sequence[str], value: Dict[str, str], timestamp: Any = None) -> None:
        d = dict(zip(self._labelnames, labels))
        self.samples.append(Sample(self.name + "_info", {**d, **value}, 1, timestamp))


class StateSetMetricFamily(Metric):
    """A state set family: one sample per state, labelled ``NAME="state"``, 1 or 0."""

    def __init__(
        self, name: str, documentation: str, value: Optional[Dict[str, bool]] = None,
        labels: Optional[Sequence[str]] = None,
    ) -> None:
        Metric.__init__(self, name, documentation, "stateset")
        _check_value_or_labels(value, labels, "value")
        self._labelnames = tuple(labels or ())
        if value is not None:
            self.add_metric([], value)

    def add_metric(self, labels: Sequence[str], value: Dict[str, bool], timestamp: Any = None) -> None:
        d = dict(zip(self._labelnames, labels))
        for state, enabled in sorted(value.items()):
            self.samples.append(
                Sample(self.name, {**d, self.name: state}, 1 if enabled else 0, timestamp)
            )


def float_to_go_string(d: Any) -> str:
    """A value as prometheus_client spells it (``17.0``, ``1e+06``, ``+Inf``, ``NaN``)."""
    d = float(d)
    if d == math.inf:
        return "+Inf"
    if d == -math.inf:
        return "-Inf"
    if math.isnan(d):
        return "NaN"
    s = repr(d)
    dot = s.find(".")
    if d > 0 and dot > 6:
        mantissa = f"{s[0]}.{s[1:dot]}{s[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+{dot - 1:02d}"
    return s


def _labels_of(names: Tuple[str, ...], values: Tuple[str, ...]) -> Dict[str, str]:
    return dict(zip(names, values))
