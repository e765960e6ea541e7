"""The Python quick start: prometheus_client's API, metricore's core.

Prints the registry's Prometheus text on standard output and metricore's own views (latency
statistics in ms, an HDR blob hdrh can read, a summary) on standard error:

    python bindings-python/examples/quickstart.py > metrics.prom
"""

import sys

from metricore import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

registry = CollectorRegistry()
requests = Counter("http_requests", "Requests served.", ["method", "code"], registry=registry)
in_flight = Gauge("http_requests_in_flight", "Requests being served.", registry=registry)
latency = Histogram("http_request_duration_seconds", "Request latency.", ["route"], registry=registry)

for ms, code in ((12.5, "200"), (8.0, "200"), (250.0, "500"), (31.0, "200")):
    with in_flight.track_inprogress():
        requests.labels("GET", code).inc()
        latency.labels("/api").record_ms(ms)  # or .observe(seconds), or `with latency.time():`

api = latency.labels("/api")
print("p99 of /api:", api.quantile(0.99), "s", file=sys.stderr)
print("latency_stats:", api.latency_stats(), file=sys.stderr)
print("HDR V2 blob for hdrh:", api.snapshot().encode()[:24].decode(), "...", file=sys.stderr)
print("summary counters:", registry.summary()["counters"], file=sys.stderr)
sys.stdout.write(generate_latest(registry).decode())
