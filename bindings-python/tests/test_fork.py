"""os.fork() at random moments while threads render, record, create and remove series and the
resource sampler runs: every child renders, records and registers at once. A child still
running after 10 s is reported as hung and killed, so a regression fails instead of hanging."""

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

FORKS = 30

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork needs a POSIX system")


def child_work(registry: CollectorRegistry, requests: metricore.Counter) -> int:
    """What a child does; its exit code says what failed."""
    if "requests_total" not in metricore.generate_latest(registry).decode():
        return 2
    requests.labels("child").inc()
    metricore.Counter("child_only", "Made in the child.", registry=registry).inc()
    text = metricore.generate_latest(registry).decode()
    if 'requests_total{user="child"} 1' not in text or "child_only_total 1" not in text:
        return 3
    return 0


def test_children_forked_at_random_moments_never_hang(registry: CollectorRegistry) -> None:
    requests = metricore.Counter("requests", "Requests.", ["user"], registry=registry)
    sampler = registry.sampler()
    sampler.start(0.1)
    stopping = threading.Event()

    def render() -> None:
        while not stopping.is_set():
            metricore.generate_latest(registry)

    def record(seed: int) -> None:
        rng = random.Random(seed)
        while not stopping.is_set():
            user = f"u{rng.randrange(2000)}"
            requests.labels(user).inc()
            if rng.random() < 0.1:
                requests.remove(user)

    threads = [threading.Thread(target=render) for _ in range(2)]
    threads += [threading.Thread(target=record, args=(i,)) for i in range(2)]
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
                    code = child_work(registry, requests)
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
