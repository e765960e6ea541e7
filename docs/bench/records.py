"""Median cost of the records the Python module returns as dicts, beside parsing the core's
JSON text in the same run. Run from the repository root after `./scripts/test.sh py-build`:

    .venv/bin/python docs/bench/records.py
"""

import json
import statistics
import time

import metricore
r = metricore.CollectorRegistry()
c = metricore.Counter("c", "h", ["a"], registry=r)
h = metricore.Histogram("h_seconds", "h", ["a"], registry=r)
for i in range(1000): c.labels(f"v{i}").inc(i)
for i in range(100): h.labels(f"v{i}").observe(i / 1000)
s = r.sampler(); s.sample_now(); time.sleep(0.2); s.sample_now()
def bench(label, fn, n):
    for _ in range(20): fn()
    xs = []
    for _ in range(n):
        t = time.perf_counter_ns(); fn(); xs.append((time.perf_counter_ns() - t) / 1e3)
    print(f"{label:<52} {statistics.median(xs):9.1f} µs")
bench("sampler.latest() (no sampling: conversion)", s.latest, 2000)
bench("sampler.sample_now()", s.sample_now, 300)
bench("sampler.resource_shapes()", s.resource_shapes, 300)
bench("registry.summary(), 1000 counters + 100 histograms", r.summary, 300)
bench("registry.snapshot(), 1000 counters + 100 histograms", r.snapshot, 300)
bench("  beside: json.loads(registry.to_json())", lambda: json.loads(r.to_json()), 300)
