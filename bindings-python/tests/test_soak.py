"""A day at a busy service, accelerated (the same day as core/tests/soak.rs): 2 000 requests per
second for 24 hours, each a labelled counter increment, a latency observation, a meter mark, a
throughput record and a gauge update; a render every 15 s; a sampler tick every 10 s; one new
series per second, each removed ten minutes later. Resident memory may grow by at most 1 MB
after the warm-up (the first fifth).

The test command runs a scaled day (``METRICORE_SOAK_SCALE``, default 0.05: every count times
0.05); ``METRICORE_SOAK_FULL=1`` runs the full count."""

from __future__ import annotations

import gc
import os
import random
import resource
import time

import pytest

import metricore
from metricore import CollectorRegistry, Counter, Gauge, Histogram, Meter, Throughput

FULL_DAY = {
    "requests": 2_000 * 86_400,
    "renders": 86_400 // 15,
    "sampler_ticks": 86_400 // 10,
    "series_created": 86_400,
    "live_churn": 600,
}


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


@pytest.mark.soak
@pytest.mark.timeout(0)
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS is read from /proc/self/statm (Linux)")
def test_a_day_of_traffic_holds_memory_flat() -> None:
    scale = 1.0 if os.environ.get("METRICORE_SOAK_FULL") == "1" else float(os.environ.get("METRICORE_SOAK_SCALE", "0.05"))
    day = {k: max(1, round(v * scale)) for k, v in FULL_DAY.items()}
    registry = CollectorRegistry()
    requests = Counter("http_requests", "Requests.", ["method", "code"], registry=registry)
    latency = Histogram("http_latency_seconds", "Latency.", ["method"], registry=registry)
    in_flight = Gauge("in_flight", "In flight.", registry=registry)
    sessions = Counter("session_events", "Per session.", ["session"], registry=registry)
    sampler = registry.sampler()
    meter, throughput = Meter(), Throughput()
    rng = random.Random(7)
    shapes = [(m, c, rng.random() * 0.05, rng.randrange(256)) for m in ("GET", "POST", "PUT", "DELETE") for c in ("200", "404", "500")] * 8
    rng.shuffle(shapes)

    n = day["requests"]
    render_every = max(1, n // day["renders"])
    tick_every = max(1, n // day["sampler_ticks"])
    churn_every = max(1, n // day["series_created"])
    sample_every = max(1, n // 200)
    warm_up_end = n // 5
    baseline = peak = 0
    rendered = ticked = created = removed = 0
    start = time.perf_counter()
    for i in range(n):
        method, code, secs, tokens = shapes[i % len(shapes)]
        requests.labels(method, code).inc()
        latency.labels(method).observe(secs)
        meter.mark()
        throughput.record(1, tokens, 512)
        in_flight.set(i & 63)
        if i % churn_every == 0:
            sessions.labels(str(created)).inc()
            created += 1
            if created > day["live_churn"]:
                sessions.remove(str(created - 1 - day["live_churn"]))
                removed += 1
        if i % render_every == 0:
            assert metricore.generate_latest(registry)
            rendered += 1
        if i % tick_every == 0:
            sampler.sample_now()
            ticked += 1
        if i % sample_every == 0 and i >= warm_up_end:
            if baseline == 0:
                gc.collect()
                baseline = resident_bytes()
            peak = max(peak, resident_bytes())
    elapsed = time.perf_counter() - start
    gc.collect()
    end = resident_bytes()
    peak = max(peak, end)
    growth = peak - baseline
    print(
        f"soak: scale {scale}: {n} requests ({n / elapsed:.0f}/s achieved, {elapsed:.1f} s), {rendered} renders, "
        f"{ticked} sampler ticks, {created} series created, {removed} removed; RSS after warm-up "
        f"{baseline / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB, end {end / 2**20:.1f} MiB, growth {growth // 1024} KiB"
    )
    assert growth <= 1 << 20, f"resident memory grew by {growth} bytes after warm-up"
