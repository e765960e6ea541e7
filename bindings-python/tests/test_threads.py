"""Thread safety (exact totals from 8 threads) and the GIL released on long work."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import metricore
from metricore import CollectorRegistry

THREADS = 8
N = 20_000


def run_all(fn) -> None:
    barrier = threading.Barrier(THREADS)

    def worker(i: int) -> None:
        barrier.wait()
        fn(i)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, range(THREADS)))


def test_eight_threads_give_exact_totals(registry: CollectorRegistry) -> None:
    c = metricore.Counter("hits", "H.", registry=registry)
    lc = metricore.Counter("by_worker", "W.", ["shared"], registry=registry)
    g = metricore.Gauge("level", "L.", registry=registry)
    h = metricore.Histogram("lat_seconds", "L.", ["route"], registry=registry)

    def work(i: int) -> None:
        child = h.labels("/")
        for _ in range(N):
            c.inc()
            lc.labels("same").inc(2)  # every thread through the same (cached) child
            lc.labels(f"w{i}").inc()
            g.inc()
            child.observe(0.001)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        run_all(work)
    finally:
        sys.setswitchinterval(old)
    assert c.get() == THREADS * N
    assert lc.labels("same").get() == 2 * THREADS * N
    assert all(lc.labels(f"w{i}").get() == N for i in range(THREADS))
    assert g.get() == THREADS * N
    s = h.labels("/").snapshot()
    assert s.count == THREADS * N
    assert s.buckets()[0] == (0.005, THREADS * N)
    assert registry.get_sample_value("hits_total") == THREADS * N


def test_concurrent_first_lookups_make_one_series(registry: CollectorRegistry) -> None:
    c = metricore.Counter("created", "C.", ["id"], registry=registry)

    def work(i: int) -> None:
        for k in range(500):
            c.labels(str(k)).inc()

    run_all(work)
    series = registry.gather()[0]["series"]
    assert len(series) == 500
    assert all(s["value"] == THREADS for s in series)


def test_render_releases_the_gil(registry: CollectorRegistry) -> None:
    fam = metricore.Counter("many", "M.", ["id"], registry=registry, cardinality_limit=200_000)
    for i in range(100_000):
        fam.labels(str(i)).inc()
    # With a 10 s switch interval the interpreter never takes the GIL from the rendering
    # thread by itself: this thread runs again while a render is in flight only if the
    # native render released the GIL. No timing threshold is involved.
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(10.0)
    in_render = threading.Event()
    done = threading.Event()
    seen_during_render = 0

    def render() -> None:
        for _ in range(3):
            in_render.set()
            registry.render_text()
            in_render.clear()
        done.set()

    try:
        thread = threading.Thread(target=render)
        thread.start()
        while not done.is_set():
            if in_render.is_set():
                seen_during_render += 1
            # Hands the GIL over; it comes back only when the other thread gives it up.
            time.sleep(0)
        thread.join()
    finally:
        sys.setswitchinterval(old_interval)
    assert seen_during_render > 0, "this thread never ran while render_text() was running"
