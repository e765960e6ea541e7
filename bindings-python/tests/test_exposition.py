"""Exposition read by other implementations: prometheus_client's own parsers (text 0.0.4 and
OpenMetrics), promtool, and the same calls made on prometheus_client giving the same samples
(modulo `_created`, which prometheus_client also writes into the text format). Plus the HTTP
surfaces: generate_latest, start_http_server, WSGI and ASGI apps."""

from __future__ import annotations

import asyncio
import gzip
import math
import urllib.request
from typing import Any, Dict, List, Set, Tuple

import pytest

prometheus_client = pytest.importorskip("prometheus_client", reason="prometheus_client is the reference peer")
import prometheus_client.exposition  # noqa: E402
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families as parse_text  # noqa: E402

import metricore  # noqa: E402

from conftest import promtool_check  # noqa: E402

Sample = Tuple[str, Tuple[Tuple[str, str], ...], float]


def exercise(lib: Any, registry: Any) -> None:
    """The same calls, made on either library."""
    c = lib.Counter("http_requests_total", "Requests served.", ["method", "code"], registry=registry)
    c.labels("GET", "200").inc()
    c.labels(method="POST", code="500").inc(3)
    c.labels("GET", "200").inc(2)
    plain = lib.Counter("jobs", "Jobs done.", registry=registry)
    plain.inc(7)
    g = lib.Gauge("queue_depth", "Queue depth.", ["queue"], registry=registry)
    g.labels("a").set(12.5)
    g.labels("b").inc(4)
    g.labels("b").dec(1.5)
    h = lib.Histogram("request_latency_seconds", "Latency.", ["route"], registry=registry)
    for v in (0.003, 0.005, 0.02, 0.2, 0.2, 1.0, 4.0, 12.0):
        h.labels("/").observe(v)
    sized = lib.Histogram("payload_bytes", "Sizes.", buckets=[100, 1000, 10000], registry=registry)
    for v in (50, 100, 5000, 20000):
        sized.observe(v)
    s = lib.Summary("batch_size", "Batch sizes.", registry=registry)
    for v in (1, 2, 3):
        s.observe(v)
    i = lib.Info("build", "Build info.", registry=registry)
    i.info({"version": "1.2.3", "commit": "abc"})
    e = lib.Enum("task_state", "State.", states=["idle", "running"], registry=registry)
    e.state("running")
    sub = lib.Counter("processed", "Items.", namespace="app", subsystem="worker", unit="bytes", registry=registry)
    sub.inc(10)


def samples(families: Any, skip: Set[str] = frozenset()) -> Set[Sample]:
    out = set()
    for f in families:
        for s in f.samples:
            if s.name.endswith("_created") or f.name in skip:
                continue
            out.add((s.name, tuple(sorted(s.labels.items())), float(s.value)))
    return out


def both() -> Tuple[str, str]:
    ours = metricore.CollectorRegistry()
    theirs = prometheus_client.CollectorRegistry()
    exercise(metricore, ours)
    exercise(prometheus_client, theirs)
    return metricore.generate_latest(ours).decode(), prometheus_client.generate_latest(theirs).decode()


def test_same_calls_give_the_same_samples() -> None:
    ours_text, theirs_text = both()
    ours = list(parse_text(ours_text))
    theirs = list(parse_text(theirs_text))
    got = samples(ours)
    want = samples(theirs)
    assert got == want, f"only ours: {sorted(got - want)}\nonly theirs: {sorted(want - got)}"
    types_ours = {f.name: f.type for f in ours if not f.name.endswith("_created")}
    types_theirs = {f.name: f.type for f in theirs if not f.name.endswith("_created")}
    assert types_ours == types_theirs


def test_openmetrics_parses_and_matches_for_counters_gauges_histograms() -> None:
    ours_reg = metricore.CollectorRegistry()
    theirs_reg = prometheus_client.CollectorRegistry()
    exercise(metricore, ours_reg)
    exercise(prometheus_client, theirs_reg)
    from prometheus_client.openmetrics.exposition import generate_latest as om_latest

    ours = list(parse_openmetrics(metricore.generate_latest_openmetrics(ours_reg).decode()))
    theirs = list(parse_openmetrics(om_latest(theirs_reg).decode()))
    keep = {"http_requests", "jobs", "queue_depth", "request_latency_seconds", "payload_bytes", "app_worker_processed_bytes"}
    pick = lambda fams: [f for f in fams if f.name in keep]  # noqa: E731
    assert samples(pick(ours)) == samples(pick(theirs))
    assert {f.name: f.type for f in pick(ours)} == {f.name: f.type for f in pick(theirs)}
    # Our _created samples are there and plausible.
    created = [s for f in ours for s in f.samples if s.name.endswith("_created")]
    assert created and all(1.6e9 < s.value < 4e9 for s in created)


def test_promtool_accepts_the_text_format(tmp_path) -> None:
    ours_text, _ = both()
    result = promtool_check(ours_text, tmp_path)
    assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()


def test_special_values_and_escaping_round_trip(registry: metricore.CollectorRegistry) -> None:
    g = metricore.Gauge("odd", 'Help with \\ and\nnewline.', ["path"], registry=registry)
    g.labels('a"b\\c\nd').set(math.inf)
    g.labels("nan").set(math.nan)
    g.labels("neg").set(-math.inf)
    fams = {f.name: f for f in parse_text(registry.render_text())}
    values = {s.labels["path"]: s.value for s in fams["odd"].samples}
    assert values['a"b\\c\nd'] == math.inf
    assert math.isnan(values["nan"]) and values["neg"] == -math.inf
    assert fams["odd"].documentation == "Help with \\ and\nnewline."
    om = {f.name: f for f in parse_openmetrics(registry.render_openmetrics())}
    assert {s.labels["path"] for s in om["odd"].samples} == {'a"b\\c\nd', "nan", "neg"}


def test_content_types_and_negotiation(registry: metricore.CollectorRegistry) -> None:
    metricore.Counter("c", "C.", registry=registry).inc()
    assert metricore.CONTENT_TYPE_LATEST == prometheus_client.CONTENT_TYPE_LATEST
    assert metricore.CONTENT_TYPE_PLAIN_0_0_4 == prometheus_client.exposition.CONTENT_TYPE_PLAIN_0_0_4
    body, ctype = registry.render_for_accept("application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
    assert ctype.startswith("application/openmetrics-text") and body.endswith(b"# EOF\n")
    body, ctype = registry.render_for_accept(None)
    assert ctype == metricore.CONTENT_TYPE_PLAIN_0_0_4 and b"c_total 1" in body
    encoder, ctype = metricore.choose_encoder("application/openmetrics-text")
    assert encoder(registry).endswith(b"# EOF\n")


def test_start_http_server(registry: metricore.CollectorRegistry) -> None:
    metricore.Counter("served", "S.", registry=registry).inc(4)
    server, thread = metricore.start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            assert resp.headers["Content-Type"] == metricore.CONTENT_TYPE_PLAIN_0_0_4
            assert "served_total 4" in resp.read().decode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0", "Accept-Encoding": "gzip"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.headers["Content-Encoding"] == "gzip"
            text = gzip.decompress(resp.read()).decode()
            assert text.endswith("# EOF\n")
            assert [f.name for f in parse_openmetrics(text)] == ["served"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_wsgi_app(registry: metricore.CollectorRegistry) -> None:
    metricore.Gauge("g", "G.", registry=registry).set(2)
    app = metricore.make_wsgi_app(registry)
    seen: Dict[str, Any] = {}

    def start_response(status: str, headers: List[Tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app({"REQUEST_METHOD": "GET", "HTTP_ACCEPT": "*/*"}, start_response))
    assert seen["status"] == "200 OK"
    assert seen["headers"]["Content-Type"] == metricore.CONTENT_TYPE_PLAIN_0_0_4
    assert b"g 2" in body


def test_asgi_app(registry: metricore.CollectorRegistry) -> None:
    metricore.Gauge("g", "G.", registry=registry).set(3)
    app = metricore.make_asgi_app(registry)
    sent: List[Dict[str, Any]] = []

    async def receive() -> Dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: Dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "headers": [(b"accept", b"application/openmetrics-text")]}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    # Header names as prometheus_client sends them (not lowercased).
    assert dict(sent[0]["headers"])[b"Content-Type"].startswith(b"application/openmetrics-text")
    assert sent[1]["body"].endswith(b"# EOF\n")


def test_write_to_textfile(registry: metricore.CollectorRegistry, tmp_path) -> None:
    metricore.Counter("written", "W.", registry=registry).inc()
    path = tmp_path / "metrics.prom"
    metricore.write_to_textfile(str(path), registry)
    assert "written_total 1" in path.read_text()


def exact_workload(lib: Any, registry: Any) -> None:
    """Calls whose results both libraries hold exactly (sums of binary fractions)."""
    c = lib.Counter("http_requests_total", "Requests \\ served\n\"now\".", ["method", "code"], registry=registry)
    c.labels("GET", "200").inc()
    c.labels("GET", "200").inc(0.5)
    c.labels(method="POST", code="500").inc(3)
    lib.Counter("jobs", "Jobs done.", registry=registry).inc(1234567)
    g = lib.Gauge("queue_depth", "Queue depth.", ["queue"], registry=registry)
    g.labels("a").set(12.5)
    g.labels("b").set(float("nan"))
    g.labels("c").set(-1e21)
    h = lib.Histogram("payload_bytes", "Sizes.", ["route"], buckets=[1, 2.5, 10], registry=registry)
    for v in (0.5, 1, 2.5, 20):
        h.labels("/a").observe(v)


@pytest.mark.parametrize("openmetrics", [False, True])
def test_renders_byte_for_byte_as_prometheus_client(
    openmetrics: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Creation times differ between the two processes' clocks: compare without them.
    from prometheus_client import metrics as peer_metrics
    from prometheus_client.openmetrics.exposition import generate_latest as peer_openmetrics

    monkeypatch.setattr(peer_metrics, "_use_created", False)
    monkeypatch.setenv("PROMETHEUS_DISABLE_CREATED_SERIES", "true")
    peer_registry = prometheus_client.CollectorRegistry()
    exact_workload(prometheus_client, peer_registry)
    ours_registry = metricore.CollectorRegistry()
    exact_workload(metricore, ours_registry)
    if openmetrics:
        want = peer_openmetrics(peer_registry)
        got = metricore.generate_latest_openmetrics(ours_registry)
    else:
        want = prometheus_client.generate_latest(peer_registry)
        got = metricore.generate_latest(ours_registry)
    assert got.decode() == want.decode()
