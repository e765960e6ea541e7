"""Serving the metrics: ``generate_latest``, WSGI/ASGI apps and a background HTTP server,
shaped like prometheus_client's. The format follows the scraper's ``Accept`` header
(OpenMetrics 1.0.0 when asked for, else the Prometheus text format 0.0.4)."""

from __future__ import annotations

import gzip
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from . import _native
from ._native import CollectorRegistry

REGISTRY: CollectorRegistry = _native.REGISTRY

#: The content type of ``generate_latest``'s output: the Prometheus text format 0.0.4.
#: (prometheus_client >= 0.22 names its 1.0.0 text format so; metricore writes 0.0.4.)
CONTENT_TYPE_LATEST: str = _native.CONTENT_TYPE_TEXT
CONTENT_TYPE_PLAIN_0_0_4: str = _native.CONTENT_TYPE_TEXT
#: The content type of the OpenMetrics 1.0.0 text format.
CONTENT_TYPE_OPENMETRICS: str = _native.CONTENT_TYPE_OPENMETRICS


def generate_latest(registry: CollectorRegistry = REGISTRY) -> bytes:
    """Every metric of ``registry`` in the Prometheus text format 0.0.4."""
    return registry.render_text().encode("utf-8")


def generate_latest_openmetrics(registry: CollectorRegistry = REGISTRY) -> bytes:
    """Every metric of ``registry`` in the OpenMetrics 1.0.0 text format (ends with ``# EOF``)."""
    return registry.render_openmetrics().encode("utf-8")


def choose_encoder(accept_header: Optional[str]) -> Tuple[Callable[[CollectorRegistry], bytes], str]:
    """``(encoder, content_type)`` for an ``Accept`` header, as prometheus_client's."""
    fmt, content_type = _native.negotiate(accept_header)
    if fmt == "openmetrics":
        return generate_latest_openmetrics, content_type
    return generate_latest, content_type


def _respond(
    registry: CollectorRegistry,
    accept: Optional[str],
    accept_encoding: Optional[str],
    disable_compression: bool,
) -> Tuple[bytes, List[Tuple[str, str]]]:
    body, content_type = registry.render_for_accept(accept)
    headers = [("Content-Type", content_type)]
    if not disable_compression and accept_encoding and "gzip" in accept_encoding:
        body = gzip.compress(body)
        headers.append(("Content-Encoding", "gzip"))
    headers.append(("Content-Length", str(len(body))))
    return body, headers


def make_wsgi_app(registry: CollectorRegistry = REGISTRY, disable_compression: bool = False) -> Callable[..., Iterable[bytes]]:
    """A WSGI app serving ``registry`` on every path."""

    def app(environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body, headers = _respond(
            registry,
            environ.get("HTTP_ACCEPT"),
            environ.get("HTTP_ACCEPT_ENCODING"),
            disable_compression,
        )
        start_response("200 OK", headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return [b""]
        return [body]

    return app


def make_asgi_app(registry: CollectorRegistry = REGISTRY, disable_compression: bool = False) -> Callable[..., Any]:
    """An ASGI app serving ``registry`` on every path (HTTP only)."""

    async def app(scope: Dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        assert scope["type"] == "http"
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        body, out = _respond(
            registry, headers.get("accept"), headers.get("accept-encoding"), disable_compression
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(k.lower().encode(), v.encode()) for k, v in out],
            }
        )
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})

    return app


class _Handler(BaseHTTPRequestHandler):
    registry: CollectorRegistry = REGISTRY
    disable_compression = False

    def do_GET(self) -> None:  # noqa: N802 (http.server's spelling)
        body, headers = _respond(
            self.registry,
            self.headers.get("Accept"),
            self.headers.get("Accept-Encoding"),
            self.disable_compression,
        )
        self.send_response(200)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Scrapes are not logged."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def start_http_server(
    port: int,
    addr: str = "0.0.0.0",
    registry: CollectorRegistry = REGISTRY,
    disable_compression: bool = False,
) -> Tuple[ThreadingHTTPServer, threading.Thread]:
    """Serves ``registry`` over HTTP on ``addr:port`` from a daemon thread; returns the server
    and the thread (``server.shutdown()`` stops it). Port 0 picks a free port
    (``server.server_address``)."""
    handler = type(
        "MetricsHandler",
        (_Handler,),
        {"registry": registry, "disable_compression": disable_compression},
    )
    server = _Server((addr, port), handler)
    thread = threading.Thread(target=server.serve_forever, name="metricore-http", daemon=True)
    thread.start()
    return server, thread


start_wsgi_server = start_http_server


def write_to_textfile(path: str, registry: CollectorRegistry = REGISTRY) -> None:
    """Writes ``registry`` in the text format to ``path`` atomically (for node_exporter's
    textfile collector)."""
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}"
    with open(tmp, "wb") as f:
        f.write(generate_latest(registry))
    os.replace(tmp, path)
