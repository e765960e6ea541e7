"""Bad input: the exception hierarchy, messages naming the metric, nothing recorded lost."""

from __future__ import annotations

import math

import pytest

import metricore
from metricore import CollectorRegistry, Counter, Gauge, Histogram

SUBCLASSES = {
    metricore.InvalidNameError: ("invalid_name", ValueError),
    metricore.InvalidLabelsError: ("invalid_labels", ValueError),
    metricore.ConflictError: ("conflict", ValueError),
    metricore.InvalidValueError: ("invalid_value", ValueError),
    metricore.InvalidConfigError: ("invalid_config", ValueError),
    metricore.InvalidExemplarError: ("invalid_exemplar", ValueError),
    metricore.CorruptBlobError: ("corrupt_blob", ValueError),
    metricore.CollectorFailedError: ("collector_failed", ValueError),
    metricore.MetricTypeError: ("invalid_type", TypeError),
}


def test_hierarchy() -> None:
    assert issubclass(metricore.MetricoreError, Exception)
    for cls, (_, builtin) in SUBCLASSES.items():
        assert issubclass(cls, metricore.MetricoreError)
        assert issubclass(cls, builtin)
        assert cls.__module__ == "metricore"
        assert cls.__doc__


def test_wrong_types_are_type_errors_naming_the_metric(registry: CollectorRegistry) -> None:
    c = Counter("requests", "R.", registry=registry)
    g = Gauge("level", "L.", registry=registry)
    h = Histogram("lat_seconds", "L.", registry=registry)
    c.inc(2)
    g.set(1.5)
    h.observe(0.1)
    for call, name in (
        (lambda: c.inc("1"), "requests"),
        (lambda: c.inc(None if False else [1]), "requests"),
        (lambda: g.set("3"), "level"),
        (lambda: g.inc(object()), "level"),
        (lambda: h.observe("0.2"), "lat_seconds"),
        (lambda: h.record_ms(b"1"), "lat_seconds"),
    ):
        with pytest.raises(metricore.MetricTypeError) as info:
            call()
        assert isinstance(info.value, TypeError)
        assert info.value.kind == "invalid_type"
        assert info.value.metric == name
        assert str(info.value).startswith(f"metric '{name}': ")
    assert c.get() == 2 and g.get() == 1.5 and h.snapshot().count == 1


@pytest.mark.parametrize("amount", [-1, -0.5, -(2**70), math.nan, math.inf, -math.inf])
def test_bad_counter_increments_change_nothing(registry: CollectorRegistry, amount: float) -> None:
    c = Counter("events", "E.", registry=registry)
    c.inc(5)
    with pytest.raises(metricore.InvalidValueError, match="^metric 'events': ") as info:
        c.inc(amount)
    assert isinstance(info.value, ValueError)
    assert c.get() == 5


@pytest.mark.parametrize("amount", [-1, -0.5, math.nan, math.inf, -math.inf])
def test_bad_counter_increments_raise_where_prometheus_client_raises(
    registry: CollectorRegistry, amount: float
) -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    peer = prometheus_client.Counter("events", "E.", registry=prometheus_client.CollectorRegistry())
    try:
        peer.inc(amount)
        peer_raised = None
    except ValueError as e:
        peer_raised = e
    ours = Counter("events", "E.", registry=registry)
    with pytest.raises(ValueError) as info:
        ours.inc(amount)
    # prometheus_client refuses negatives; it lets NaN and infinities through, which
    # metricore refuses (a total that is NaN or infinite never recovers).
    assert (peer_raised is not None) == (amount < 0), (amount, peer_raised)
    assert "events" in str(info.value)


def test_unusual_observations_are_counted_as_prometheus_client_counts_them(
    registry: CollectorRegistry,
) -> None:
    import prometheus_client as peer

    preg = peer.CollectorRegistry()
    theirs = peer.Histogram("latency", "L.", unit="seconds", buckets=[0.5, 1.0], registry=preg)
    ours = Histogram("latency", "L.", unit="seconds", buckets=[0.5, 1.0], registry=registry)
    for v in [0.25, -0.5, math.inf, -math.inf, 2.0]:
        theirs.observe(v)
        ours.observe(v)
    ours.record_ms(math.nan)
    ours.observe(math.nan)
    s = ours.snapshot()
    peer_buckets = [
        preg.get_sample_value("latency_seconds_bucket", {"le": le}) for le in ("0.5", "1.0", "+Inf")
    ]
    assert [count for _, count in s.buckets()] == peer_buckets
    assert s.count == preg.get_sample_value("latency_seconds_count") == 5
    assert math.isnan(s.sum)  # inf + -inf, on both sides
    # Beyond the peer: what fell outside the range and what had no bucket is reported.
    assert (s.saturated, s.rejected) == (3, 2)


def test_bad_names(registry: CollectorRegistry) -> None:
    for name in ("bad-name", "1st", "", "has space"):
        with pytest.raises(metricore.InvalidNameError) as info:
            Counter(name, "x", registry=registry)
        assert isinstance(info.value, ValueError)
    with pytest.raises(metricore.InvalidNameError, match="metric 'ok'"):
        Counter("ok", "x", ["bad-label"], registry=registry)
    with pytest.raises(metricore.InvalidNameError, match="metric 'h'"):
        Histogram("h", "x", ["le"], registry=registry)
    with pytest.raises(metricore.MetricTypeError, match="metric 'ok2'"):
        Counter("ok2", "x", "method", registry=registry)  # a str, not a sequence of str
    with pytest.raises(metricore.MetricTypeError, match="metric 'ok3'"):
        Counter("ok3", "x", [1], registry=registry)
    assert registry.family_names() == []


def test_wrong_label_count_and_names(registry: CollectorRegistry) -> None:
    c = Counter("requests", "R.", ["method", "code"], registry=registry)
    c.labels("GET", "200").inc(3)
    bad_calls = [
        lambda: c.labels("GET"),
        lambda: c.labels("GET", "200", "x"),
        lambda: c.labels(method="GET"),
        lambda: c.labels(method="GET", code="200", extra="x"),
        lambda: c.labels("GET", code="200"),
        lambda: c.labels("GET", "200").labels("x", "y"),
        lambda: c.inc(),
        lambda: c.get(),
        lambda: c.remove("GET"),
    ]
    for call in bad_calls:
        with pytest.raises(metricore.InvalidLabelsError, match="^metric 'requests': ") as info:
            call()
        assert info.value.kind == "invalid_labels" and info.value.metric == "requests"
    plain = Counter("plain", "P.", registry=registry)
    with pytest.raises(metricore.InvalidLabelsError, match="^metric 'plain': has no label names"):
        plain.labels("x")
    assert c.labels("GET", "200").get() == 3


def test_conflicts_keep_the_first_registration(registry: CollectorRegistry) -> None:
    c = Counter("events", "E.", registry=registry)
    c.inc(5)
    with pytest.raises(metricore.ConflictError, match="^metric 'events': ") as info:
        Gauge("events", "E.", registry=registry)
    assert isinstance(info.value, ValueError)
    with pytest.raises(metricore.ConflictError):
        Counter("events", "E.", ["x"], registry=registry)
    with pytest.raises(metricore.ConflictError):
        Gauge("events_total", "E.", registry=registry)  # a counter's sample name
    assert registry.get_sample_value("events_total") == 5.0


def test_bad_histogram_options(registry: CollectorRegistry) -> None:
    for kwargs in (
        dict(buckets=[1.0, 0.5]),
        dict(buckets=[]),
        dict(lowest=0),
        dict(significant_figures=6),
        dict(resolution="hour"),
        dict(window_seconds=0.01, sub_windows=6),
        dict(window_seconds=-1),
    ):
        with pytest.raises(metricore.InvalidConfigError, match="^metric 'h'"):
            Histogram("h", "H.", registry=registry, **kwargs)
    with pytest.raises(metricore.MetricTypeError, match="^metric 'h'"):
        Histogram("h", "H.", registry=registry, buckets="0.1")
    with pytest.raises(metricore.InvalidConfigError):
        Counter("c", "C.", registry=registry, cardinality_limit=0)
    assert registry.family_names() == []


def test_corrupt_blobs(registry: CollectorRegistry) -> None:
    h = Histogram("h", "H.", registry=registry, buckets=None)
    h.record(1000)
    for blob in (b"", b"not a histogram", bytes(40)):
        with pytest.raises(metricore.CorruptBlobError) as info:
            h.merge(blob)
        assert isinstance(info.value, ValueError)
        with pytest.raises(metricore.CorruptBlobError):
            metricore.HistogramSnapshot.decode(blob)
    with pytest.raises(metricore.MetricTypeError):
        h.merge(12)
    other = Histogram("u", "U.", registry=registry, resolution="unit", buckets=None)
    other.record(3)
    with pytest.raises(metricore.CorruptBlobError):
        h.merge(other.snapshot())
    assert h.snapshot().count == 1


def test_wrong_registry_type() -> None:
    with pytest.raises(metricore.MetricTypeError, match="^metric 'x': registry must be"):
        Counter("x", "X.", registry="nope")  # type: ignore[arg-type]
