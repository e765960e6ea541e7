"""The records the native module returns as dicts: the same values ``json.loads`` gives for
the core's JSON, built without JSON text."""

from __future__ import annotations

import json
import math
import sys
import time

import pytest

import metricore
from metricore import CollectorRegistry, Counter, Gauge, Histogram, Summary


def test_snapshot_is_the_json_of_every_family(registry: CollectorRegistry) -> None:
    moved = Counter("bytes_moved", 'Bytes "moved".', ["path"], registry=registry)
    moved.labels("/é\\n").inc(2**40 + 3)
    moved.labels("/b").inc(1, exemplar={"trace_id": "abc"})
    temperature = Gauge("temperature", "Heat.", ["where"], registry=registry)
    temperature.labels("nowhere").set(math.nan)
    temperature.labels("sun").set(math.inf)
    temperature.labels("room").set(21.5)
    latency = Histogram("latency_seconds", "Latency.", buckets=[0.1, 1], registry=registry)
    latency.observe(0.05)
    latency.observe(2)
    Summary("empty_summary", "Nothing yet.", registry=registry)  # an HDR histogram here

    snap = registry.snapshot()
    families = json.loads(registry.to_json())
    assert snap == {f["name"]: f for f in families}
    assert list(snap["bytes_moved"]) == list(families[0]), "keys in the JSON's order"
    series = {s["labels"][0]: s["value"] for s in snap["bytes_moved"]["series"]}
    assert series["/é\\n"] == {"value": 2**40 + 3} and type(series["/é\\n"]["value"]) is int
    assert series["/b"]["exemplar"]["labels"] == [["trace_id", "abc"]]
    temps = {s["labels"][0]: s["value"]["value"] for s in snap["temperature"]["series"]}
    assert temps == {"nowhere": None, "room": 21.5, "sun": None}, "non-finite gauges are None, as in the JSON"
    h = snap["latency_seconds"]["series"][0]["value"]
    assert h["count"] == 2 and type(h["count"]) is int
    assert h["buckets"] == [["0.1", 1], ["1", 1], ["+Inf", 2]], "pairs are lists, as JSON has no tuples"
    assert snap["empty_summary"]["series"][0]["value"]["snapshot"]["count"] == 0


def test_summary_types(registry: CollectorRegistry) -> None:
    Counter("reqs", "R.", ["m"], registry=registry).labels("GET").inc(3)
    Gauge("up", "U.", registry=registry).set(1)
    Histogram("lat_seconds", "L.", registry=registry).record_ms(12.5)
    summary = registry.summary()
    assert type(summary["counters"]['reqs{m="GET"}']) is int
    assert type(summary["gauges"]["up"]) is float
    latency = summary["histograms"]["lat_seconds"]["latency"]
    assert type(latency["count"]) is int and latency["count"] == 1
    assert latency["min_ms"] == pytest.approx(12.5)
    assert type(summary["collected_at"]) is float and abs(summary["collected_at"] - time.time()) < 60


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the /proc sampler is Linux-only")
def test_resource_shapes_types(registry: CollectorRegistry) -> None:
    sampler = registry.sampler()
    first = sampler.resource_shapes()
    assert list(first) == ["cpu", "memory", "disk", "network"]
    assert first["network"] is None, "rates need a second sample"
    time.sleep(0.3)
    shapes = sampler.resource_shapes()
    memory = shapes["memory"]
    assert list(memory) == ["used", "free", "cached", "buffers", "swapUsed", "swapFree", "pressure"]
    assert type(memory["used"]) is int and type(memory["free"]) is int
    assert list(shapes["cpu"]) == ["usage", "user", "system", "idle", "iowait", "steal", "loadAvg"]
    cpu = shapes["cpu"]
    assert cpu["usage"] + cpu["idle"] + cpu["iowait"] == pytest.approx(100.0)
    assert isinstance(cpu["loadAvg"], list) and len(cpu["loadAvg"]) == 3
    network = shapes["network"]
    assert list(network) == ["connections", "bandwidth", "packets"]
    assert list(network["packets"]) == ["in", "out", "dropped", "errors"]
    assert network["connections"] is None or type(network["connections"]) is int


def test_profile_and_meter_records() -> None:
    _, profile = metricore._native.profile_operation(lambda: None)
    assert list(profile) == ["duration_ms", "cpu_user_ms", "cpu_system_ms", "rss_delta_bytes"]
    assert type(profile["duration_ms"]) is float
    assert profile["rss_delta_bytes"] is None or type(profile["rss_delta_bytes"]) is int
