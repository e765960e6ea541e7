"""Type stubs for ``metricore._native``, the extension module (checked by ``mypy.stubtest``).

The public API is the ``metricore`` package, which re-exports these names."""

from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, TypeVar, Union

from typing_extensions import Self, disjoint_base, final

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = [
    "Meter",
    "Throughput",
    "Counter",
    "Gauge",
    "Histogram",
    "CollectorRegistry",
    "Sampler",
    "profile_operation",
    "HistogramSnapshot",
    "negotiate",
    "MetricoreError",
    "InvalidNameError",
    "InvalidLabelsError",
    "ConflictError",
    "InvalidValueError",
    "InvalidConfigError",
    "InvalidExemplarError",
    "CorruptBlobError",
    "CollectorFailedError",
    "MetricTypeError",
    "Summary",
    "render_samples",
    "set_context_managers",
    "set_default_registry",
    "DEFAULT_BUCKETS",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_OPENMETRICS",
    "__version__",
    "DEFAULT_CARDINALITY_LIMIT",
]

__version__: str
DEFAULT_BUCKETS: Tuple[float, ...]
"""prometheus_client's default bucket bounds in seconds, ``+Inf`` last."""
DEFAULT_CARDINALITY_LIMIT: int
"""The per-family cap on label sets (10,000)."""
CONTENT_TYPE_TEXT: str
"""``text/plain; version=0.0.4; charset=utf-8``."""
CONTENT_TYPE_OPENMETRICS: str
"""``application/openmetrics-text; version=1.0.0; charset=utf-8``."""

def render_samples(metrics: Any, openmetrics: bool = False) -> bytes:
    """Writes prometheus_client ``Metric`` objects as prometheus_client does: OpenMetrics
    without the closing ``# EOF`` when ``openmetrics``, else the text format 0.0.4."""

def set_context_managers(namespace: Any) -> None:
    """Hands over the object whose attributes ``Timer``, ``InprogressTracker`` and
    ``ExceptionCounter`` are the context-manager classes the metrics return (once, at import)."""

def set_default_registry(registry: CollectorRegistry) -> None:
    """Makes ``registry`` (made with ``_core_default=True``) the registry metrics join when no
    ``registry=`` is given (once, at import)."""

class MetricoreError(Exception):
    """Root of every error metricore raises. ``kind``, ``metric`` and ``rule`` say what went wrong."""

    kind: str
    metric: Optional[str]
    rule: str

class InvalidNameError(MetricoreError, ValueError):
    """A metric, label or unit name breaks the Prometheus naming rules."""

class InvalidLabelsError(MetricoreError, ValueError):
    """Label values do not match the metric's label names (count, unknown or missing names)."""

class ConflictError(MetricoreError, ValueError):
    """The name is already registered with a different shape."""

class InvalidValueError(MetricoreError, ValueError):
    """A value is not allowed (NaN, negative, infinite, fractional for a counter)."""

class InvalidConfigError(MetricoreError, ValueError):
    """Options are inconsistent (histogram range, buckets, window, interval, limits)."""

class InvalidExemplarError(MetricoreError, ValueError):
    """An exemplar breaks the OpenMetrics exemplar rules."""

class CorruptBlobError(MetricoreError, ValueError):
    """An HdrHistogram blob cannot be decoded, or two histograms cannot merge."""

class CollectorFailedError(MetricoreError, ValueError):
    """A custom collector failed, or yielded a family that breaks the exposition rules."""

class MetricTypeError(MetricoreError, TypeError):
    """A value of the wrong Python type (a string given to inc(), a non-string label name)."""

class _Decorator:
    def __enter__(self) -> Any: ...
    def __exit__(self, typ: Any, value: Any, tb: Any) -> None: ...
    def __call__(self, func: _F) -> _F: ...

@disjoint_base
class CollectorRegistry:
    """A set of metric families, collected and exposed together (prometheus_client's
    ``CollectorRegistry``). Thread-safe; collection and rendering release the GIL."""

    def __new__(cls, *args: Any, _core_default: bool = False, **kwargs: Any) -> Self:
        """An empty registry, or with ``_core_default=True`` one over the core's default
        registry; other arguments are for the Python subclass."""
    def render_text(
        self, dialect: str = "prometheus_client", created: Optional[bool] = None, names: Optional[List[str]] = None,
        exclude: Optional[List[str]] = None,
    ) -> str:
        """Every family in the Prometheus text format 0.0.4, spelled as ``dialect`` spells it
        (``"prometheus_client"``, ``"canonical"`` or ``"prom-client"``); ``created`` overrides
        whether ``_created`` samples are written, ``names`` keeps only those families and
        ``exclude`` leaves those out."""
    def render_openmetrics(
        self, dialect: str = "prometheus_client", created: Optional[bool] = None, names: Optional[List[str]] = None,
        exclude: Optional[List[str]] = None,
    ) -> str:
        """Every family in the OpenMetrics 1.0.0 text format, ending with ``# EOF``."""
    def render_for_accept(
        self, accept: Optional[str] = None, dialect: str = "prometheus_client", created: Optional[bool] = None
    ) -> Tuple[bytes, str]:
        """The body in the format an HTTP ``Accept`` header asks for, and its Content-Type."""
    def to_json(self) -> str:
        """Every family as a JSON array."""
    def summary(self) -> Dict[str, Any]:
        """Every series at a glance: counters, gauges, sampled_counters, histograms, collected_at."""
    def snapshot(self) -> Dict[str, Dict[str, Any]]:
        """The registry as a dict: family name -> the family's record, as ``to_json()`` writes it."""
    def gather(self, names: Optional[List[str]] = None) -> List[Dict[str, Any]]:
        """Collects every family (or those named in ``names``): dicts with name, help, unit,
        kind, label_names and series."""
    def family_names(self) -> List[str]:
        """Names of the registered families, in registration order."""
    def sample_names(self) -> List[Tuple[str, List[str]]]:
        """Each family's name with the sample names it exposes (``x``, ``x_total``,
        ``x_bucket``, …), in registration order."""
    def unregister(self, metric: Any) -> bool:
        """Removes a metric (or a family by name); returns whether it was there."""
    def evict_idle(self) -> int:
        """Evicts series idle past their metric's ``idle_ttl``; returns how many."""
    def sampler(self) -> Sampler:
        """This registry's resource sampler (made stopped on the first call)."""

@final
class Counter:
    """A monotonic counter of whole events (prometheus_client's ``Counter``). The name is
    given without ``_total``, which is added at exposition (and removed when given)."""

    def __new__(
        cls,
        name: str,
        documentation: str,
        labelnames: Optional[Iterable[str]] = None,
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: Optional[CollectorRegistry] = ...,
        *,
        cardinality_limit: int = 10000,
        idle_ttl: Optional[float] = None,
    ) -> Self:
        """Registers (or finds the identical) counter family."""
    def inc(self, amount: Optional[Union[int, float]] = None, exemplar: Optional[Mapping[str, str]] = None) -> None:
        """Adds ``amount`` (any finite number from 0 up, 1 by default)."""
    def remove_by_labels(self, labels: Dict[str, str]) -> None:
        """Removes every child whose labels include all of ``labels``."""
    @property
    def _name(self) -> str:
        """The family's name (prometheus_client's private ``_name``)."""
    @property
    def _labelnames(self) -> Tuple[str, ...]:
        """The label names (prometheus_client's private ``_labelnames``)."""
    @property
    def _documentation(self) -> str:
        """The help text (prometheus_client's private ``_documentation``)."""
    _type: str
    """The OpenMetrics type (prometheus_client's private ``_type``)."""
    def labels(self, *labelvalues: Any, **labelkwargs: Any) -> Self:
        """The child for these label values, by position or by name."""
    def remove(self, *labelvalues: Any) -> None:
        """Removes the child with these label values."""
    def clear(self) -> None:
        """Removes every child."""
    def get(self) -> float:
        """The current total, fractions included."""
    def reset(self) -> None:
        """Sets the total back to zero."""
    def count_exceptions(self, exception: Any = None) -> _Decorator:
        """Context manager and decorator counting exceptions of type ``exception``."""
    @property
    def name(self) -> str:
        """The family's full name (without ``_total``)."""
    @property
    def labelnames(self) -> Tuple[str, ...]:
        """The label names."""
    @property
    def labelvalues(self) -> List[str]:
        """This child's label values."""

@final
class Gauge:
    """A value that goes up and down (prometheus_client's ``Gauge``)."""

    def __new__(
        cls,
        name: str,
        documentation: str,
        labelnames: Optional[Iterable[str]] = None,
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: Optional[CollectorRegistry] = ...,
        multiprocess_mode: str = "all",
        *,
        cardinality_limit: int = 10000,
        idle_ttl: Optional[float] = None,
    ) -> Self:
        """Registers (or finds the identical) gauge family."""
    def inc(self, amount: Optional[float] = None) -> None:
        """Adds ``amount`` (1 by default)."""
    def dec(self, amount: Optional[float] = None) -> None:
        """Subtracts ``amount`` (1 by default)."""
    def set(self, value: float) -> None:
        """Sets the value."""
    def set_to_current_time(self) -> None:
        """Sets the value to the current Unix time in seconds."""
    def get(self) -> float:
        """The current value."""
    def track_inprogress(self) -> _Decorator:
        """Context manager and decorator: +1 on entry, -1 on exit."""
    def set_function(self, f: Callable[[], float]) -> None:
        """Makes the value ``f()``, called at every collection."""
    def time(self) -> _Decorator:
        """Context manager and decorator setting the gauge to the duration in seconds."""
    def remove_by_labels(self, labels: Dict[str, str]) -> None:
        """Removes every child whose labels include all of ``labels``."""
    @property
    def _name(self) -> str:
        """The family's name (prometheus_client's private ``_name``)."""
    @property
    def _labelnames(self) -> Tuple[str, ...]:
        """The label names (prometheus_client's private ``_labelnames``)."""
    @property
    def _documentation(self) -> str:
        """The help text (prometheus_client's private ``_documentation``)."""
    _type: str
    """The OpenMetrics type (prometheus_client's private ``_type``)."""
    def labels(self, *labelvalues: Any, **labelkwargs: Any) -> Self:
        """The child for these label values."""
    def remove(self, *labelvalues: Any) -> None:
        """Removes the child with these label values."""
    def clear(self) -> None:
        """Removes every child."""
    @property
    def name(self) -> str:
        """The family's full name."""
    @property
    def labelnames(self) -> Tuple[str, ...]:
        """The label names."""
    @property
    def labelvalues(self) -> List[str]:
        """This child's label values."""

@disjoint_base
class Histogram:
    """A distribution (prometheus_client's ``Histogram``), HDR-backed: exact buckets plus any
    quantile within 0.1 %, mergeable through HdrHistogram V2 blobs."""

    DEFAULT_BUCKETS: Tuple[float, ...]
    """prometheus_client's default bounds in seconds, ``+Inf`` last."""

    def __new__(
        cls,
        name: str,
        documentation: str,
        labelnames: Optional[Iterable[str]] = None,
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: Optional[CollectorRegistry] = ...,
        buckets: Optional[Iterable[Union[float, str]]] = ...,
        *,
        lowest: int = 1,
        highest: Optional[int] = None,
        significant_figures: int = 3,
        resolution: str = "microsecond",
        window_seconds: Optional[float] = None,
        sub_windows: int = 6,
        cardinality_limit: int = 10000,
        idle_ttl: Optional[float] = None,
    ) -> Self:
        """Registers (or finds the identical) histogram family."""
    def observe(self, amount: float, exemplar: Optional[Mapping[str, str]] = None) -> None:
        """Records ``amount`` in base units (seconds for time)."""
    def record(self, value: int, count: int = 1) -> None:
        """Records the integer ``value`` (in the histogram's resolution) ``count`` times."""
    def record_ms(self, ms: float) -> None:
        """Records a duration given in milliseconds."""
    def time(self) -> _Decorator:
        """Context manager and decorator observing the duration in seconds."""
    def snapshot(self) -> HistogramSnapshot:
        """A consistent copy of the counts."""
    def window_snapshot(self) -> Optional[HistogramSnapshot]:
        """The sliding window's counts, or ``None`` without ``window_seconds``."""
    def quantile(self, q: float) -> float:
        """The value at quantile ``q`` (0..=1) in base units."""
    def latency_stats(self) -> Dict[str, float]:
        """Count, mean, min, max, stddev and p50..p999 in milliseconds."""
    def count(self) -> int:
        """How many values were recorded."""
    def merge(self, other: Union[HistogramSnapshot, bytes, str]) -> None:
        """Adds another histogram's counts (a snapshot or a V2 blob)."""
    def remove_by_labels(self, labels: Dict[str, str]) -> None:
        """Removes every child whose labels include all of ``labels``."""
    @property
    def _name(self) -> str:
        """The family's name (prometheus_client's private ``_name``)."""
    @property
    def _labelnames(self) -> Tuple[str, ...]:
        """The label names (prometheus_client's private ``_labelnames``)."""
    @property
    def _documentation(self) -> str:
        """The help text (prometheus_client's private ``_documentation``)."""
    _type: str
    """The OpenMetrics type (prometheus_client's private ``_type``)."""
    def labels(self, *labelvalues: Any, **labelkwargs: Any) -> Histogram:
        """The child for these label values."""
    def remove(self, *labelvalues: Any) -> None:
        """Removes the child with these label values."""
    def clear(self) -> None:
        """Removes every child."""
    @property
    def name(self) -> str:
        """The family's full name."""
    @property
    def labelnames(self) -> Tuple[str, ...]:
        """The label names."""
    @property
    def labelvalues(self) -> List[str]:
        """This child's label values."""

@final
class HistogramSnapshot:
    """A point-in-time copy of a histogram. Integers are in the histogram's resolution,
    floats in base units."""

    @staticmethod
    def decode(blob: Union[bytes, str], resolution: str = "microsecond") -> HistogramSnapshot:
        """Decodes an HdrHistogram V2 blob (plain or deflate, raw or base64)."""
    @property
    def count(self) -> int:
        """Number of recorded values."""
    @property
    def sum(self) -> float:
        """Exact sum in base units."""
    @property
    def min(self) -> int:
        """Smallest recorded value, in recorded integers."""
    @property
    def max(self) -> int:
        """Largest recorded value, in recorded integers."""
    @property
    def mean(self) -> float:
        """Exact mean, in recorded integers."""
    @property
    def stddev(self) -> float:
        """Population standard deviation, in recorded integers."""
    @property
    def saturated(self) -> int:
        """Values outside the range (above it, below zero, or infinite)."""
    @property
    def rejected(self) -> int:
        """NaN values given: not counted, not in the sum."""
    @property
    def resolution(self) -> str:
        """What one recorded integer means."""
    @property
    def lowest(self) -> Optional[int]:
        """Lowest discernible value (``None`` for any magnitude)."""
    @property
    def highest(self) -> Optional[int]:
        """Highest trackable value (``None`` for any magnitude)."""
    @property
    def significant_figures(self) -> int:
        """Significant decimal figures kept."""
    @property
    def buckets_exact(self) -> bool:
        """Whether bucket counts are exact."""
    def value_at_quantile(self, q: float) -> int:
        """The value at quantile ``q`` in recorded integers, as HdrHistogram computes it."""
    def quantile(self, q: float) -> float:
        """The value at quantile ``q`` in base units, within ``[min, max]``."""
    def percentile_ms(self, percentile: float) -> float:
        """The value at ``percentile`` (0..=100) in milliseconds."""
    def latency_stats(self) -> Dict[str, float]:
        """Count, mean, min, max, stddev and p50..p999 in milliseconds."""
    def to_dict(self) -> Dict[str, Any]:
        """The JSON record of this snapshot."""
    def buckets(self) -> List[Tuple[float, int]]:
        """Cumulative Prometheus buckets as ``(le, count)``, ``+Inf`` last."""
    def recorded_values(self) -> List[Tuple[int, int]]:
        """``(lowest equivalent value, count)`` for every non-zero HDR count."""
    def encode_v2(self, compressed: bool = True) -> bytes:
        """An HdrHistogram V2 blob, deflate-compressed by default."""
    def encode(self) -> bytes:
        """The compressed V2 blob in base64, as ``hdrh``'s ``encode()``."""
    def merge(self, other: Union[HistogramSnapshot, bytes, str]) -> HistogramSnapshot:
        """A new snapshot holding this one's counts plus ``other``'s."""

@final
class Meter:
    """Events and their rates per second: mean, 1/5/15-minute EWMA, sliding window."""

    def __new__(cls, window_seconds: float = 60.0, sub_windows: int = 6) -> Self:
        """A meter whose windowed rate covers the last ``window_seconds``."""
    def mark(self, n: int = 1) -> None:
        """Records ``n`` events."""
    @property
    def count(self) -> int:
        """Events since creation."""
    @property
    def mean_rate(self) -> float:
        """Events per second since creation."""
    @property
    def one_minute_rate(self) -> float:
        """The 1-minute EWMA rate."""
    @property
    def five_minute_rate(self) -> float:
        """The 5-minute EWMA rate."""
    @property
    def fifteen_minute_rate(self) -> float:
        """The 15-minute EWMA rate."""
    @property
    def rate_per_second(self) -> float:
        """Events per second over the sliding window."""
    @property
    def rate_per_minute(self) -> float:
        """Events per minute over the sliding window."""
    @property
    def count_in_window(self) -> int:
        """Events within the sliding window."""
    def snapshot(self) -> Dict[str, float]:
        """Every figure at once."""

@final
class Throughput:
    """Requests, tokens and bytes per second over a sliding window."""

    def __new__(cls, window_seconds: float = 60.0, sub_windows: int = 6) -> Self:
        """Rates over the last ``window_seconds``."""
    def record(self, requests: int = 1, tokens: int = 0, bytes: int = 0) -> None:
        """Records requests carrying tokens and bytes."""
    def stats(self) -> Dict[str, float]:
        """requests_per_second, tokens_per_second, bytes_per_second, window_seconds."""

@final
class Sampler:
    """A registry's background resource sampler (CPU, memory, disk, network, threads, fds)."""

    def start(self, interval: float = 10.0) -> None:
        """Starts sampling every ``interval`` seconds."""
    def stop(self) -> None:
        """Stops the thread and waits for it."""
    @property
    def is_running(self) -> bool:
        """Whether a sampling thread runs in this process."""
    def sample_now(self) -> Dict[str, Any]:
        """Takes a sample now and returns it as a dict."""
    def latest(self) -> Optional[Dict[str, Any]]:
        """The latest sample, or ``None``."""
    def resource_metrics(self) -> Dict[str, Any]:
        """The flat resource figures from a fresh sample."""
    def resource_shapes(self) -> Dict[str, Any]:
        """The TypeScript-era machine figures from a fresh sample."""
    def errors(self) -> Dict[str, int]:
        """Failed reads by source."""

def profile_operation(func: Callable[[], Any]) -> Tuple[Any, Dict[str, Any]]:
    """Calls ``func()``; returns ``(result, profile)`` with duration, CPU and RSS figures."""

def negotiate(accept: Optional[str] = None) -> Tuple[str, str]:
    """``(format, content_type)`` for an HTTP ``Accept`` header."""

@final
class Summary:
    """A summary (the core's summary kind): ``_count``, ``_sum`` and one series per quantile in
    ``quantiles`` (none by default, as prometheus_client's ``Summary``)."""

    def __new__(
        cls,
        name: str,
        documentation: str,
        labelnames: Optional[Iterable[str]] = None,
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: Optional[CollectorRegistry] = ...,
        *,
        quantiles: List[float] = ...,
        window_seconds: Optional[float] = None,
        sub_windows: Optional[int] = None,
        cardinality_limit: Optional[int] = None,
        idle_ttl: Optional[float] = None,
    ) -> Self:
        """Registers (or finds the identical) summary family."""
    def observe(self, amount: Union[int, float]) -> None:
        """Records ``amount``."""
    def time(self) -> _Decorator:
        """A context manager and decorator that observes the block's duration in seconds."""
    def quantile(self, q: float) -> float:
        """The value at quantile ``q`` (0..=1) over all time."""
    def latency_stats(self) -> Dict[str, Any]:
        """Count, mean, min, max, stddev and p50..p999 in milliseconds."""
    def snapshot(self) -> HistogramSnapshot:
        """A consistent copy of the counts."""
    def count(self) -> int:
        """How many values were recorded."""
    def remove_by_labels(self, labels: Dict[str, str]) -> None:
        """Removes every child whose labels include all of ``labels``."""
    @property
    def _name(self) -> str:
        """The family's name (prometheus_client's private ``_name``)."""
    @property
    def _labelnames(self) -> Tuple[str, ...]:
        """The label names (prometheus_client's private ``_labelnames``)."""
    @property
    def _documentation(self) -> str:
        """The help text (prometheus_client's private ``_documentation``)."""
    _type: str
    """The OpenMetrics type (prometheus_client's private ``_type``)."""
    def labels(self, *labelvalues: Any, **labelkwargs: Any) -> Self:
        """The child for these label values."""
    def remove(self, *labelvalues: Any) -> None:
        """Removes the child with these label values."""
    def clear(self) -> None:
        """Removes every child."""
    @property
    def name(self) -> str:
        """The family's full name."""
    @property
    def labelnames(self) -> Tuple[str, ...]:
        """The label names."""
    @property
    def labelvalues(self) -> List[str]:
        """This child's label values."""
