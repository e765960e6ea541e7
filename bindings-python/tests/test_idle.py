"""Idle eviction seen from Python: a series neither changed nor looked up for longer than its
metric's ``idle_ttl`` leaves the exposition at the next scrape, while a child object the user
kept keeps its series, and what is recorded through it is scraped (the core's rule: live
handles are spared). Families with an ``idle_ttl`` hand out children without the child cache,
so the cache never keeps a series alive on the user's behalf."""

from __future__ import annotations

import time

import metricore
from metricore import CollectorRegistry

TTL = 0.2


def exposed(registry: CollectorRegistry) -> str:
    return metricore.generate_latest(registry).decode()


def test_a_series_idle_past_its_ttl_is_evicted(registry: CollectorRegistry) -> None:
    c = metricore.Counter("sessions", "S.", ["user"], registry=registry, idle_ttl=TTL)
    for _ in range(3):
        # Looked up again and again, as a request handler does: no cache keeps it alive.
        c.labels("gone").inc()
    exposed(registry)  # the first scrape notes each series' value
    time.sleep(TTL * 3)
    text = exposed(registry)
    assert 'user="gone"' not in text, text
    # Looked up again, it starts afresh.
    c.labels("gone").inc()
    assert 'sessions_total{user="gone"} 1.0' in exposed(registry)


def test_a_kept_child_keeps_its_series_and_its_updates_are_scraped(registry: CollectorRegistry) -> None:
    g = metricore.Gauge("queue_depth", "Q.", ["queue"], registry=registry, idle_ttl=TTL)
    kept = g.labels("mail")
    kept.set(3)
    exposed(registry)
    time.sleep(TTL * 3)
    assert 'queue_depth{queue="mail"} 3.0' in exposed(registry), "idle, but its child is alive"
    kept.set(5)
    assert 'queue_depth{queue="mail"} 5.0' in exposed(registry)
    del kept
    exposed(registry)
    time.sleep(TTL * 3)
    assert 'queue="mail"' not in exposed(registry), "once the child is dropped, the TTL applies"


def test_lookups_count_as_use(registry: CollectorRegistry) -> None:
    h = metricore.Histogram("job_seconds", "J.", ["job"], registry=registry, idle_ttl=TTL)
    h.labels("nightly").observe(1.0)
    exposed(registry)
    for _ in range(6):
        time.sleep(TTL / 2)
        h.labels("nightly")  # looked up, not changed
        exposed(registry)
    assert 'job="nightly"' in exposed(registry)
