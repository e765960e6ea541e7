"""The resource sampler against psutil, and profile_operation."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

import pytest

import metricore
from metricore import CollectorRegistry

psutil = pytest.importorskip("psutil", reason="psutil is the reference for the sampler's figures")

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the /proc sampler is Linux-only")


@linux_only
def test_sample_agrees_with_psutil(registry: CollectorRegistry) -> None:
    sampler = registry.sampler()
    me = psutil.Process()
    sample = sampler.sample_now()
    rss, threads, fds = me.memory_info().rss, me.num_threads(), me.num_fds()
    cpu = me.cpu_times()
    proc = sample["process"]
    assert abs(proc["resident_memory_bytes"] - rss) <= max(0.1 * rss, 8 << 20)
    assert abs(proc["threads"] - threads) <= 2
    assert abs(proc["open_fds"] - fds) <= 3
    assert abs(proc["cpu_seconds"] - (cpu.user + cpu.system)) <= 0.25
    assert proc["start_time_seconds"] == pytest.approx(me.create_time(), abs=1.0)
    memory = sample["system"]["memory"]
    assert memory["total_bytes"] == psutil.virtual_memory().total
    assert abs(memory["available_bytes"] - psutil.virtual_memory().available) <= 0.1 * memory["total_bytes"]
    assert sample["system"]["boot_time_seconds"] == pytest.approx(psutil.boot_time(), abs=2.0)
    assert sample["interval_seconds"] is None  # the first sample has no interval
    time.sleep(0.3)  # CPU time comes in clock ticks: a percentage needs an interval of many
    second = sampler.sample_now()
    assert second["interval_seconds"] > 0
    assert 0 <= second["process"]["cpu_percent"] <= 100 * os.cpu_count() + 5


@linux_only
def test_resource_metrics_shapes(registry: CollectorRegistry) -> None:
    sampler = registry.sampler()
    m = sampler.resource_metrics()
    assert m["memory_total_bytes"] == psutil.virtual_memory().total
    assert 0 < m["memory_utilization"] < 1
    root = psutil.disk_usage("/")
    assert m["disk_total_bytes"] == pytest.approx(root.total, rel=0.01)
    assert abs(m["disk_used_bytes"] - root.used) <= 0.05 * root.total
    time.sleep(0.3)  # CPU percentages need ticks between two samples
    shapes = sampler.resource_shapes()
    assert set(shapes) == {"cpu", "memory", "disk", "network"}
    assert shapes["memory"]["used"] > 0
    assert shapes["cpu"] is not None and 0 <= shapes["cpu"]["usage"] <= 100


@linux_only
def test_start_stop_and_exposition(registry: CollectorRegistry) -> None:
    sampler = registry.sampler()
    assert registry.sampler().is_running is False
    sampler.start(0.1)
    try:
        assert sampler.is_running
        deadline = time.time() + 10
        while sampler.latest() is None and time.time() < deadline:
            time.sleep(0.02)
        assert sampler.latest() is not None
        text = registry.render_text()
        assert "process_resident_memory_bytes " in text
        assert "node_memory_MemTotal_bytes " in text
    finally:
        sampler.stop()
    assert not sampler.is_running
    assert isinstance(sampler.errors(), dict)
    with pytest.raises(metricore.InvalidConfigError, match="resource sampler"):
        sampler.start(0.01)
    with pytest.raises(metricore.ConflictError):
        metricore.Gauge("process_resident_memory_bytes", "x", registry=registry)


def test_profile_operation_reports_gc_and_cpu() -> None:
    def work() -> int:
        gc.collect()  # one full collection: generation 2
        t = time.process_time()
        while time.process_time() - t < 0.05:
            pass
        return 42

    result, profile = metricore.profile_operation(work)
    assert result == 42
    assert profile["duration_ms"] >= 40
    assert profile["gc_collections"][2] >= 1
    assert len(profile["gc_collections"]) == 3
    assert profile["gc_uncollectable"] >= 0
    if sys.platform.startswith("linux"):
        assert profile["cpu_user_ms"] + profile["cpu_system_ms"] >= 30
        keep = []
        _, p2 = metricore.profile_operation(lambda: keep.append(bytearray(64 << 20)))
        assert p2["rss_delta_bytes"] >= 32 << 20
    with pytest.raises(ZeroDivisionError):
        metricore.profile_operation(lambda: 1 / 0)


def test_profile_operation_releases_nothing_it_should_not() -> None:
    # Other threads keep running Python while a profiled Python callable runs.
    seen = []
    t = threading.Thread(target=lambda: seen.append(1))
    _, profile = metricore.profile_operation(lambda: (t.start(), t.join()))
    assert seen == [1] and profile["duration_ms"] >= 0
