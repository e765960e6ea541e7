"""Meter and Throughput."""

from __future__ import annotations

import pytest

import metricore


def test_meter_counts_and_rates() -> None:
    m = metricore.Meter()
    m.mark()
    m.mark(4)
    assert m.count == 5
    assert m.count_in_window == 5
    assert m.rate_per_second > 0
    assert m.rate_per_minute == pytest.approx(m.rate_per_second * 60, rel=0.05)
    assert m.one_minute_rate == 0.0  # no 5-second tick yet, as in Dropwizard
    snap = m.snapshot()
    assert snap["count"] == 5 and snap["window_seconds"] == 60.0
    assert set(snap) == {
        "count", "mean_rate", "one_minute_rate", "five_minute_rate",
        "fifteen_minute_rate", "rate_per_second", "window_seconds",
    }


def test_meter_window_options() -> None:
    assert metricore.Meter(window_seconds=10, sub_windows=5).snapshot()["window_seconds"] == 10.0
    with pytest.raises(metricore.InvalidConfigError, match="^metric 'meter'"):
        metricore.Meter(window_seconds=0.1, sub_windows=10)
    with pytest.raises(metricore.InvalidConfigError):
        metricore.Meter(window_seconds=float("nan"))


def test_throughput() -> None:
    t = metricore.Throughput(window_seconds=30)
    t.record(1, 250, 4096)
    t.record(requests=2)
    stats = t.stats()
    assert stats["window_seconds"] == 30.0
    assert stats["requests_per_second"] > 0 and stats["tokens_per_second"] > 0
    assert stats["tokens_per_second"] / stats["requests_per_second"] == pytest.approx(250 / 3)
    assert stats["bytes_per_second"] / stats["requests_per_second"] == pytest.approx(4096 / 3)
