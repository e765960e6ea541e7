"""HDR quantiles, snapshots, windows and V2 interchange with the `hdrh` package."""

from __future__ import annotations

import random

import pytest

hdrh_histogram = pytest.importorskip("hdrh.histogram", reason="hdrh is the interop peer")
HdrHistogram = hdrh_histogram.HdrHistogram

import metricore  # noqa: E402
from metricore import CollectorRegistry, Histogram, HistogramSnapshot  # noqa: E402

PERCENTILES = (0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0)


def values(n: int = 5000, seed: int = 7) -> list:
    rng = random.Random(seed)
    return [int(rng.lognormvariate(8, 1.5)) + 1 for _ in range(n)]  # ~3 ms median, long tail


def hdrh_counts(h: "HdrHistogram") -> dict:
    """hdrh's non-zero counts keyed by the lowest value of their bucket (our convention)."""
    return {
        h.get_lowest_equivalent_value(item.value_iterated_to): item.count_at_value_iterated_to
        for item in h.get_recorded_iterator()
    }


def filled(registry: CollectorRegistry, vs: list) -> Histogram:
    h = Histogram("lat", "L.", registry=registry, buckets=None)
    for v in vs:
        h.record(v)
    return h


def test_our_blobs_decode_in_hdrh_with_equal_percentiles(registry: CollectorRegistry) -> None:
    vs = values()
    snap = filled(registry, vs).snapshot()
    reference = HdrHistogram(1, 60_000_000, 3)
    for v in vs:
        reference.record_value(v)
    decoded = HdrHistogram.decode(snap.encode())
    assert decoded.get_total_count() == len(vs)
    # hdrh reads exactly the counts it would have recorded itself...
    assert hdrh_counts(decoded) == hdrh_counts(reference) == dict(snap.recorded_values())
    # ...so its percentiles are equal. (hdrh ranks with round-half-up where HdrHistogram and
    # metricore use ceil, so the two libraries' own answers may differ by one rank.)
    for p in PERCENTILES:
        assert decoded.get_value_at_percentile(p) == reference.get_value_at_percentile(p), p
    assert decoded.get_min_value() == reference.get_min_value()
    assert decoded.get_max_value() == reference.get_max_value()


def test_hdrh_blobs_decode_here_with_equal_percentiles() -> None:
    vs = values(seed=11)
    h = HdrHistogram(1, 60_000_000, 3)
    for v in vs:
        h.record_value(v)
    blob = h.encode()  # base64 of the deflate V2 blob
    native = filled(CollectorRegistry(), vs).snapshot()
    for form in (blob, blob.decode(), __import__("base64").b64decode(blob)):
        snap = HistogramSnapshot.decode(form)
        assert snap.count == len(vs)
        assert dict(snap.recorded_values()) == hdrh_counts(h)
        for p in PERCENTILES:
            assert snap.value_at_quantile(p / 100) == native.value_at_quantile(p / 100), p
        # Where both rank rules pick the same rank (q * n whole), the answers are hdrh's.
        for p in (10.0, 50.0, 100.0):
            assert snap.value_at_quantile(p / 100) == h.get_value_at_percentile(p), p


def test_merge_across_implementations(registry: CollectorRegistry) -> None:
    a, b = values(2000, 1), values(3000, 2)
    ours = filled(registry, a)
    theirs = HdrHistogram(1, 60_000_000, 3)
    for v in b:
        theirs.record_value(v)
    ours.merge(theirs.encode())
    reference = HdrHistogram(1, 60_000_000, 3)
    for v in a + b:
        reference.record_value(v)
    snap = ours.snapshot()
    assert snap.count == len(a) + len(b)
    assert dict(snap.recorded_values()) == hdrh_counts(reference)
    for p in (10.0, 50.0, 100.0):
        assert snap.value_at_quantile(p / 100) == reference.get_value_at_percentile(p), p
    # hdrh adds our blob into its own histogram.
    theirs.add(HdrHistogram.decode(filled(CollectorRegistry(), a).snapshot().encode()))
    assert theirs.get_value_at_percentile(99) == reference.get_value_at_percentile(99)


def test_snapshot_merge_returns_a_new_snapshot(registry: CollectorRegistry) -> None:
    h1 = Histogram("a", "A.", registry=registry, buckets=None)
    h2 = Histogram("b", "B.", registry=registry, buckets=None)
    h1.record(1000)
    h2.record(3000)
    s1 = h1.snapshot()
    merged = s1.merge(h2.snapshot())
    assert (s1.count, merged.count) == (1, 2)
    assert (merged.min, merged.max) == (1000, 3000)
    merged2 = s1.merge(h2.snapshot().encode_v2(compressed=False))
    assert merged2.count == 2 and merged2.max == 3001  # a blob keeps bucket ends, not exact max


def test_quantiles_and_latency_stats(registry: CollectorRegistry) -> None:
    h = Histogram("req_seconds", "R.", registry=registry)
    for ms in (12.0, 15.0, 20.0, 250.0):
        h.record_ms(ms)
    stats = h.latency_stats()
    assert stats["count"] == 4
    assert stats["min_ms"] == 12.0 and stats["max_ms"] == 250.0
    assert stats["mean_ms"] == pytest.approx(74.25)
    assert stats["p50_ms"] == pytest.approx(15.0, rel=1e-3)
    assert stats["p999_ms"] <= stats["max_ms"]
    assert h.quantile(0.99) == pytest.approx(0.25, rel=1e-3)
    s = h.snapshot()
    assert s.percentile_ms(50) == pytest.approx(15.0, rel=1e-3)
    d = s.to_dict()
    assert d["count"] == 4 and d["resolution"] == "microsecond"
    assert d["p99"] == pytest.approx(0.25, rel=1e-3)
    assert s.buckets()[-1] == (float("inf"), 4)
    assert s.buckets_exact
    assert sum(c for _, c in s.recorded_values()) == 4
    assert (s.lowest, s.highest, s.significant_figures) == (1, 60_000_000, 3)


def test_saturation_is_counted(registry: CollectorRegistry) -> None:
    h = Histogram("sat", "S.", registry=registry, highest=1000, buckets=None, resolution="unit")
    h.record(5)
    h.record(5000)
    s = h.snapshot()
    assert (s.count, s.saturated, s.max) == (2, 1, 5000)
    assert registry.get_sample_value("metricore_saturated_values_total", {"metric": "sat"}) == 1.0


def test_sliding_window_snapshot(registry: CollectorRegistry) -> None:
    plain = Histogram("plain", "P.", registry=registry)
    plain.observe(0.1)
    assert plain.window_snapshot() is None
    w = Histogram("windowed", "W.", registry=registry, window_seconds=60, sub_windows=6)
    for v in (0.1, 0.2, 0.3):
        w.observe(v)
    ws = w.window_snapshot()
    assert ws is not None and ws.count == 3
    assert ws.quantile(1.0) == pytest.approx(0.3, rel=1e-3)
