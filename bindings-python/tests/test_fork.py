"""os.fork() at random moments while threads render, record, create and remove series, set
exemplars, rotate sliding windows and the resource sampler runs: every child renders, records
with an exemplar, reads every window and registers at once, and finds the sampler stopped. A
child still running after 10 s is reported as hung and killed, so a regression fails instead of
hanging. METRICORE_FORKS sets the number of forks (default 30)."""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import time
import warnings

import pytest

import metricore
from metricore import CollectorRegistry

FORKS = int(os.environ.get("METRICORE_FORKS", "30"))

WINDOWED = 100

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork needs a POSIX system")


def child_work(
    registry: CollectorRegistry,
    requests: metricore.Counter,
    sampler: metricore.Sampler,
    latency: metricore.Histogram,
) -> int:
    """What a child does; its exit code says what failed."""
    if "requests_total" not in metricore.generate_latest_openmetrics(registry).decode():
        return 2
    if sampler.is_running:
        return 4
    for i in range(WINDOWED):
        child = latency.labels(f"w{i}")
        child.observe(0.25, exemplar={"trace_id": "child"})
        if child.window_snapshot() is None:
            return 5
    requests.labels("child").inc()
    metricore.Counter("child_only", "Made in the child.", registry=registry).inc()
    text = metricore.generate_latest(registry).decode()
    if 'requests_total{user="child"} 1' not in text or "child_only_total 1" not in text:
        return 3
    return 0


def test_children_forked_at_random_moments_never_hang(registry: CollectorRegistry) -> None:
    requests = metricore.Counter("requests", "Requests.", ["user"], registry=registry)
    # Windows of 100 ms sub-windows (the shortest) rotate ten times a second each; the
    # exemplar slots are read under their locks by every OpenMetrics render.
    latency = metricore.Histogram(
        "latency_seconds", "Latency.", ["route"], registry=registry, window_seconds=1.0, sub_windows=10
    )
    sampler = registry.sampler()
    sampler.start(0.1)
    stopping = threading.Event()

    def render() -> None:
        while not stopping.is_set():
            metricore.generate_latest_openmetrics(registry)

    def windows_and_exemplars(seed: int) -> None:
        rng = random.Random(seed)
        while not stopping.is_set():
            child = latency.labels(f"w{rng.randrange(WINDOWED)}")
            # Values across the buckets, so that renders copy an exemplar per bucket.
            child.observe(rng.random() * 12, exemplar={"trace_id": f"t{rng.randrange(1000)}"})
            child.window_snapshot()

    for i in range(WINDOWED):
        for bucket_value in (0.004, 0.009, 0.02, 0.04, 0.09, 0.2, 0.4, 0.9, 2, 4, 9, 11):
            latency.labels(f"w{i}").observe(bucket_value, exemplar={"trace_id": "warm"})

    def record(seed: int) -> None:
        rng = random.Random(seed)
        while not stopping.is_set():
            user = f"u{rng.randrange(2000)}"
            requests.labels(user).inc()
            if rng.random() < 0.1:
                requests.remove(user)

    threads = [threading.Thread(target=render) for _ in range(2)]
    threads += [threading.Thread(target=record, args=(i,)) for i in range(2)]
    threads += [threading.Thread(target=windows_and_exemplars, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    hung, failed = [], []
    rng = random.Random(42)
    try:
        for i in range(FORKS):
            time.sleep(rng.random() * 0.003)
            with warnings.catch_warnings():
                # Python warns that forking a threaded process may deadlock the child: that
                # is exactly what this test checks does not happen with metricore.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    code = child_work(registry, requests, sampler, latency)
                finally:
                    os._exit(code)
            deadline = time.monotonic() + 10
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    if os.waitstatus_to_exitcode(status) != 0:
                        failed.append((i, os.waitstatus_to_exitcode(status)))
                    break
                if time.monotonic() > deadline:
                    hung.append(i)
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.001)
    finally:
        stopping.set()
        for t in threads:
            t.join()
        sampler.stop()
    print(f"{FORKS} forks: {len(hung)} hung, {len(failed)} failed", file=sys.stderr)
    assert hung == [], f"children hung after forks {hung}"
    assert failed == [], f"children failed (fork, exit code): {failed}"
