"""``metricore.install()`` with libraries that import prometheus_client themselves, in real
apps served over HTTP: a FastAPI app under uvicorn instrumented by
prometheus-fastapi-instrumentator, and a Flask app instrumented by prometheus-flask-exporter.

Each app runs twice, with and without ``install()``, and the two scrapes are compared: the
same samples, the same counts. Each run is a fresh interpreter (install() must come before any import of
prometheus_client, and this test process imports the real one as the reference peer). The
app is driven with real requests, then its /metrics is scraped over HTTP; the scrape must
come from metricore (the library's metrics live in metricore's registry) and carry the
requests the library counted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Dict, FrozenSet, Set, Tuple

import pytest

prometheus_client = pytest.importorskip("prometheus_client", reason="prometheus_client is the reference peer")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

Key = Tuple[str, FrozenSet[Tuple[str, str]]]

# Samples whose values are timings or process state, different from run to run.
VARYING = ("duration", "latency", "_created", "process_", "python_gc_", "_bucket", "_sum", "size")


def samples(body: str) -> Dict[Key, float]:
    out: Dict[Key, float] = {}
    for family in text_string_to_metric_families(body.replace("# EOF\n", "")):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def assert_same_as_peer(ours: str, theirs: str) -> None:
    """The same samples (names and labels) in both scrapes, with the same values where they
    do not depend on timing."""
    a, b = samples(ours), samples(theirs)
    only_ours: Set[Key] = set(a) - set(b)
    only_theirs: Set[Key] = set(b) - set(a)
    assert not only_ours and not only_theirs, f"only metricore: {only_ours}\nonly prometheus_client: {only_theirs}"
    differ = {k: (a[k], b[k]) for k in a if not any(v in k[0] for v in VARYING) and a[k] != b[k]}
    assert not differ, differ

COMMON = textwrap.dedent(
    """
    import os, socket, sys, threading, time, urllib.request

    ROUTED = os.environ.get("USE_METRICORE") == "1"
    if ROUTED:
        import metricore
        metricore.install()

    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def get(url, headers=None):
        req = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()

    def wait_up(url):
        for _ in range(200):
            try:
                return get(url)
            except OSError:
                time.sleep(0.05)
        raise SystemExit("server did not start")

    def check_routed():
        import prometheus_client, prometheus_client.registry
        if not ROUTED:
            assert "metricore" not in sys.modules
            return
        assert prometheus_client.REGISTRY is metricore.REGISTRY, "not routed to metricore"
        assert prometheus_client.registry.CollectorRegistry is metricore.CollectorRegistry
    """
)

FASTAPI_APP = COMMON + textwrap.dedent(
    """
    import uvicorn
    from fastapi import FastAPI
    from prometheus_fastapi_instrumentator import Instrumentator

    app = FastAPI()

    @app.get("/items/{item_id}")
    def item(item_id: int):
        return {"id": item_id}

    Instrumentator().instrument(app).expose(app)
    check_routed()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    wait_up(base + "/items/0")
    for i in range(5):
        assert get(f"{base}/items/{i}")[0] == 200
    status, headers, body = get(base + "/metrics")
    server.should_exit = True
    print(status)
    print(headers.get("content-type"))
    print(body)
    """
)

FLASK_APP = COMMON + textwrap.dedent(
    """
    from flask import Flask
    from prometheus_flask_exporter import PrometheusMetrics
    from werkzeug.serving import make_server

    app = Flask(__name__)
    metrics = PrometheusMetrics(app)

    @app.route("/hello")
    def hello():
        return "hi"

    check_routed()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    wait_up(base + "/hello")
    for _ in range(4):
        assert get(base + "/hello")[0] == 200
    status, headers, body = get(base + "/metrics", {"Accept": "application/openmetrics-text; version=1.0.0"})
    server.shutdown()
    print(status)
    print(headers.get("Content-Type"))
    print(body)
    """
)


def run_app(source: str, routed: bool = True) -> tuple[str, str, str]:
    env = {**os.environ, "USE_METRICORE": "1" if routed else "0"}
    proc = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=90, env=env
    )
    assert proc.returncode == 0, proc.stderr
    status, content_type, body = proc.stdout.split("\n", 2)
    return status, content_type, body[:-1]  # print()'s newline


def test_fastapi_instrumentator_under_uvicorn() -> None:
    pytest.importorskip("prometheus_fastapi_instrumentator", reason="installed by scripts/lib.sh")
    status, content_type, body = run_app(FASTAPI_APP)
    assert status == "200"
    # The instrumentator sends prometheus_client's CONTENT_TYPE_LATEST.
    assert content_type == "text/plain; version=1.0.0; charset=utf-8"
    # The instrumentator's own families, counted by metricore: six requests to the item
    # route (the first one waited for the server to come up).
    assert '# TYPE http_requests_total counter' in body
    lines = [line for line in body.splitlines() if line.startswith("http_requests_total{")]
    assert any('handler="/items/{item_id}"' in line and line.endswith(" 6.0") for line in lines), lines
    assert "# TYPE http_request_duration_seconds histogram" in body
    # prometheus_client's default collectors, now metricore's.
    assert "process_resident_memory_bytes " in body and "python_info{" in body
    peer_status, peer_type, peer_body = run_app(FASTAPI_APP, routed=False)
    assert (peer_status, peer_type) == (status, content_type)
    assert_same_as_peer(body, peer_body)


def test_flask_exporter() -> None:
    pytest.importorskip("prometheus_flask_exporter", reason="installed by scripts/lib.sh")
    status, content_type, body = run_app(FLASK_APP)
    assert status == "200"
    assert content_type.startswith("application/openmetrics-text")
    assert body.endswith("# EOF\n")
    # Five requests to /hello (one waited for the server), counted by metricore.
    counts = [
        line for line in body.splitlines()
        if line.startswith("flask_http_request_total{") and 'status="200"' in line
    ]
    assert any(line.endswith(" 5.0") for line in counts), counts
    assert "# TYPE flask_http_request_duration_seconds histogram" in body
    assert "flask_exporter_info" in body
    peer_status, peer_type, peer_body = run_app(FLASK_APP, routed=False)
    assert (peer_status, peer_type) == (status, content_type)
    assert_same_as_peer(body, peer_body)


def test_install_refuses_after_the_real_import() -> None:
    code = "import prometheus_client, metricore\ntry:\n    metricore.install()\nexcept ImportError as e:\n    print(e)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "must run before prometheus_client is imported" in out.stdout, out.stderr
