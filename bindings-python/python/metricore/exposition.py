"""Serving the metrics, as prometheus_client serves them: ``generate_latest``, the WSGI and
ASGI apps, ``MetricsHandler``, a background HTTP server, the textfile writer and the
Pushgateway client. The format follows the scraper's ``Accept`` header (OpenMetrics 1.0.0
when asked for, else the Prometheus text format 0.0.4); ``?name[]=`` restricts a scrape to
the named samples."""

from __future__ import annotations

import base64
import gzip
import os
import socket
import ssl
import threading
from functools import partial
from http.server import BaseHTTPRequestHandler
from socketserver import ThreadingMixIn
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple
from urllib.error import HTTPError
from urllib.parse import parse_qs, quote_plus, urlparse
from urllib.request import (
    BaseHandler, HTTPHandler, HTTPRedirectHandler, Request, build_opener,
)
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from . import _native, _render
from ._registry import REGISTRY, CollectorRegistry, use_created

#: The Prometheus text format 0.0.4 (what ``generate_latest`` writes).
CONTENT_TYPE_PLAIN_0_0_4: str = "text/plain; version=0.0.4; charset=utf-8"
#: The Prometheus text format 1.0.0 (the same bytes for legacy names).
CONTENT_TYPE_PLAIN_1_0_0: str = "text/plain; version=1.0.0; charset=utf-8"
CONTENT_TYPE_LATEST: str = CONTENT_TYPE_PLAIN_1_0_0
#: OpenMetrics 1.0.0.
CONTENT_TYPE_OPENMETRICS: str = "application/openmetrics-text; version=1.0.0; charset=utf-8"

from ._escaping import ALLOWUTF8, DOTS, UNDERSCORES, VALUES  # noqa: E402
_ESCAPINGS = (ALLOWUTF8, UNDERSCORES, DOTS, VALUES)


def _is_core_only(registry: Any) -> bool:
    return isinstance(registry, _native.CollectorRegistry) and not (
        isinstance(registry, CollectorRegistry) and registry.has_custom_collectors()
    )


def _render_mixed(registry: CollectorRegistry, openmetrics: bool) -> bytes:
    """A registry with custom collectors: runs of core families rendered by the core, the
    collectors' families in Python, in registration order."""
    created = use_created()
    render = registry.render_openmetrics if openmetrics else registry.render_text
    python = _render.openmetrics_families if openmetrics else _render.text
    parts: List[bytes] = []
    for what, segment in registry._segments():
        if what != "metrics":
            if what == "core":
                text = render(created=created, names=segment)
            else:
                text = render(created=created, exclude=segment)
            if openmetrics:
                text = text[: -len("# EOF\n")]
            parts.append(text.encode("utf-8"))
        else:
            parts.append(python(segment))
    if openmetrics:
        parts.append(b"# EOF\n")
    return b"".join(parts)


def generate_latest(registry: Any = REGISTRY, escaping: str = UNDERSCORES) -> bytes:
    """Every metric of ``registry`` (a registry, or anything with ``collect()``) in the
    Prometheus text format 0.0.4. Names are always valid legacy names, so ``escaping``
    changes nothing in the output."""
    if _is_core_only(registry):
        return registry.render_text(created=use_created()).encode("utf-8")  # type: ignore[no-any-return]
    if isinstance(registry, CollectorRegistry):
        return _render_mixed(registry, openmetrics=False)
    return _render.text(registry.collect())


def generate_latest_openmetrics(
    registry: Any = REGISTRY, escaping: str = UNDERSCORES, version: str = "1.0.0"
) -> bytes:
    """Every metric of ``registry`` in the OpenMetrics 1.0.0 text format (ends with ``# EOF``)."""
    if _is_core_only(registry):
        return registry.render_openmetrics(created=use_created()).encode("utf-8")  # type: ignore[no-any-return]
    if isinstance(registry, CollectorRegistry):
        return _render_mixed(registry, openmetrics=True)
    return _render.openmetrics(registry.collect())


def _accept_param(toks: Sequence[str], key: str) -> str:
    for tok in toks:
        if "=" in tok:
            k, v = tok.strip().split("=", 1)
            if k == key:
                return v
    return ""


def _version_at_least_1(version: str) -> bool:
    try:
        return int(version.split(".")[0]) >= 1
    except ValueError:
        return False


def choose_encoder(accept_header: Optional[str]) -> Tuple[Callable[..., bytes], str]:
    """``(encoder, content_type)`` for an HTTP ``Accept`` header, as prometheus_client picks."""
    for accepted in (accept_header or "").split(","):
        toks = accepted.split(";")
        media = toks[0].strip()
        if media not in ("application/openmetrics-text", "text/plain"):
            continue
        version = _accept_param(toks, "version")
        escaping = _accept_param(toks, "escaping")
        escaping = escaping if escaping in _ESCAPINGS else UNDERSCORES
        if media == "application/openmetrics-text":
            if not version:
                return partial(generate_latest_openmetrics, escaping=UNDERSCORES), CONTENT_TYPE_OPENMETRICS
            if _version_at_least_1(version):
                return (
                    partial(generate_latest_openmetrics, escaping=escaping, version=version),
                    f"application/openmetrics-text; version={version}; charset=utf-8; escaping={escaping}",
                )
        elif version and _version_at_least_1(version):
            return partial(generate_latest, escaping=escaping), f"{CONTENT_TYPE_LATEST}; escaping={escaping}"
    return generate_latest, CONTENT_TYPE_PLAIN_0_0_4


def gzip_accepted(accept_encoding_header: Optional[str]) -> bool:
    """Whether an ``Accept-Encoding`` header accepts gzip."""
    return any(
        a.split(";")[0].strip().lower() == "gzip" for a in (accept_encoding_header or "").split(",")
    )


def _bake_output(
    registry: Any,
    accept_header: Optional[str],
    accept_encoding_header: Optional[str],
    params: Dict[str, List[str]],
    disable_compression: bool,
) -> Tuple[str, List[Tuple[str, str]], bytes]:
    """``(status, headers, body)`` of a scrape."""
    encoder, content_type = choose_encoder(accept_header)
    if "name[]" in params:
        registry = registry.restricted_registry(params["name[]"])
    output = encoder(registry)
    headers = [("Content-Type", content_type)]
    if not disable_compression and gzip_accepted(accept_encoding_header):
        output = gzip.compress(output)
        headers.append(("Content-Encoding", "gzip"))
    return "200 OK", headers, output


def make_wsgi_app(registry: Any = REGISTRY, disable_compression: bool = False) -> Callable[..., Iterable[bytes]]:
    """A WSGI app serving ``registry`` on every path (GET and OPTIONS)."""

    def prometheus_app(environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if method == "OPTIONS":
            status, headers, output = "200 OK", [("Allow", "OPTIONS,GET")], b""
        elif method != "GET":
            status = "405 Method Not Allowed"
            headers = [("Allow", "OPTIONS,GET")]
            output = f"# HTTP {status}: {method}; use OPTIONS or GET\n".encode()
        elif environ.get("PATH_INFO") == "/favicon.ico":
            status, headers, output = "200 OK", [], b""
        else:
            status, headers, output = _bake_output(
                registry,
                environ.get("HTTP_ACCEPT"),
                environ.get("HTTP_ACCEPT_ENCODING"),
                parse_qs(environ.get("QUERY_STRING", "")),
                disable_compression,
            )
        start_response(status, headers)
        return [output]

    return prometheus_app


def make_asgi_app(registry: Any = REGISTRY, disable_compression: bool = False) -> Callable[..., Any]:
    """An ASGI app serving ``registry`` on every path (HTTP only)."""

    async def prometheus_app(scope: Dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        assert scope.get("type") == "http"
        params = parse_qs(scope.get("query_string", b"").decode("utf8"))
        headers_in = scope.get("headers") or []
        accept = ",".join(v.decode("utf8") for k, v in headers_in if k.decode("utf8").lower() == "accept")
        encoding = ",".join(
            v.decode("utf8") for k, v in headers_in if k.decode("utf8").lower() == "accept-encoding"
        )
        status, headers, output = _bake_output(registry, accept, encoding, params, disable_compression)
        payload = await receive()
        if payload.get("type") == "http.request":
            await send(
                {
                    "type": "http.response.start",
                    "status": int(status.split(" ")[0]),
                    "headers": [tuple(x.encode("utf8") for x in h) for h in headers],
                }
            )
            await send({"type": "http.response.body", "body": output})

    return prometheus_app


class MetricsHandler(BaseHTTPRequestHandler):
    """An ``http.server`` handler serving ``registry`` (``REGISTRY`` unless ``factory``
    made one for another)."""

    registry: Any = REGISTRY

    def do_GET(self) -> None:  # noqa: N802 (http.server's spelling)
        status, headers, output = _bake_output(
            self.registry,
            self.headers.get("Accept"),
            self.headers.get("Accept-Encoding"),
            parse_qs(urlparse(self.path).query),
            False,
        )
        self.send_response(int(status.split(" ")[0]))
        for header in headers:
            self.send_header(*header)
        self.end_headers()
        self.wfile.write(output)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Scrapes are not logged."""

    @classmethod
    def factory(cls, registry: Any) -> type:
        """A handler class serving ``registry``."""
        return type(str(cls.__name__), (cls, object), {"registry": registry})


class _SilentHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Scrapes are not logged."""


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """A WSGI server answering each request in a daemon thread."""

    daemon_threads = True


def _best_family(address: str, port: int) -> Tuple[int, str]:
    infos = socket.getaddrinfo(address, port)
    family, _, _, _, sockaddr = next(iter(infos))
    return int(family), str(sockaddr[0])


def _ssl_context(
    certfile: str, keyfile: str, protocol: int, cafile: Optional[str], capath: Optional[str],
    client_auth_required: bool,
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(protocol=protocol)
    if cafile is not None or capath is not None:
        ctx.load_verify_locations(cafile, capath)
    else:
        ctx.load_default_certs(purpose=ssl.Purpose.CLIENT_AUTH)
    if client_auth_required:
        ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(certfile=certfile, keyfile=keyfile)
    return ctx


def start_wsgi_server(
    port: int,
    addr: str = "0.0.0.0",
    registry: Any = REGISTRY,
    certfile: Optional[str] = None,
    keyfile: Optional[str] = None,
    client_cafile: Optional[str] = None,
    client_capath: Optional[str] = None,
    protocol: int = ssl.PROTOCOL_TLS_SERVER,
    client_auth_required: bool = False,
    tls_min_version: Optional[ssl.TLSVersion] = None,
    tls_max_version: Optional[ssl.TLSVersion] = None,
) -> Tuple[WSGIServer, threading.Thread]:
    """Serves ``registry`` on ``addr:port`` from a daemon thread (TLS with ``certfile`` and
    ``keyfile``, client certificates checked against ``client_cafile``/``client_capath``,
    versions bounded by ``tls_min_version``/``tls_max_version``); returns the server and the thread (``server.shutdown()`` stops it)."""

    class TmpServer(ThreadingWSGIServer):
        """Binds to the address family of ``addr``."""

    TmpServer.address_family, addr = _best_family(addr, port)  # type: ignore[assignment]
    app = make_wsgi_app(registry)
    httpd = make_server(addr, port, app, TmpServer, handler_class=_SilentHandler)
    if certfile and keyfile:
        ctx = _ssl_context(certfile, keyfile, protocol, client_cafile, client_capath, client_auth_required)
        if tls_min_version is not None:
            ctx.minimum_version = tls_min_version
        if tls_max_version is not None:
            ctx.maximum_version = tls_max_version
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    t = threading.Thread(target=httpd.serve_forever, name="metricore-http", daemon=True)
    t.start()
    return httpd, t


start_http_server = start_wsgi_server


def write_to_textfile(
    path: str, registry: Any = REGISTRY, escaping: str = ALLOWUTF8, tmpdir: Optional[str] = None
) -> None:
    """Writes ``registry`` in the text format to ``path`` atomically (for node_exporter's
    textfile collector)."""
    directory = tmpdir if tmpdir is not None else os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f"{os.path.basename(path)}.{os.getpid()}.{threading.get_ident()}")
    try:
        with open(tmp, "wb") as f:
            f.write(generate_latest(registry, escaping))
        os.replace(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ---------------------------------------------------------------------- Pushgateway

class _RedirectHandler(HTTPRedirectHandler):
    """Follows a redirect keeping the method and body."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        new = Request(newurl, data=req.data, headers=req.headers, method=req.get_method())
        return new


def _make_handler(
    url: str, method: str, timeout: Optional[float], headers: List[Tuple[str, str]], data: bytes,
    base_handler: Any,
) -> Callable[[], None]:
    def handle() -> None:
        request = Request(url, data=data)
        request.get_method = lambda: method  # type: ignore[method-assign]
        for k, v in headers:
            request.add_header(k, v)
        resp = build_opener(base_handler).open(request, timeout=timeout)
        if resp.code >= 400:
            raise OSError(f"error talking to pushgateway: {resp.code} {resp.msg}")

    return handle


def default_handler(
    url: str, method: str, timeout: Optional[float], headers: List[Tuple[str, str]], data: bytes
) -> Callable[[], None]:
    """The Pushgateway request, sent as is."""
    return _make_handler(url, method, timeout, headers, data, HTTPHandler)


def passthrough_redirect_handler(
    url: str, method: str, timeout: Optional[float], headers: List[Tuple[str, str]], data: bytes
) -> Callable[[], None]:
    """The Pushgateway request, following redirects with its method and body."""
    return _make_handler(url, method, timeout, headers, data, _RedirectHandler)


def basic_auth_handler(
    url: str, method: str, timeout: Optional[float], headers: List[Tuple[str, str]], data: bytes,
    username: Optional[str] = None, password: Optional[str] = None,
) -> Callable[[], None]:
    """The Pushgateway request with HTTP basic authentication."""

    def handle() -> None:
        if username is not None and password is not None:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            headers.append(("Authorization", f"Basic {token}"))
        default_handler(url, method, timeout, headers, data)()

    return handle


def tls_auth_handler(
    url: str, method: str, timeout: Optional[float], headers: List[Tuple[str, str]], data: bytes,
    certfile: str, keyfile: str, cafile: Optional[str] = None, protocol: int = ssl.PROTOCOL_TLS_CLIENT,
    insecure_skip_verify: bool = False,
) -> Callable[[], None]:
    """The Pushgateway request over TLS with a client certificate."""
    import urllib.request

    context = ssl.SSLContext(protocol=protocol)
    if cafile is not None:
        context.load_verify_locations(cafile)
    else:
        context.load_default_certs()
    if insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(certfile=certfile, keyfile=keyfile)
    return _make_handler(url, method, timeout, headers, data, urllib.request.HTTPSHandler(context=context))


def _escape_grouping_key(k: str, v: str) -> Tuple[str, str]:
    if v == "":
        return k + "@base64", "="
    if "/" in v or " " in v:
        return k + "@base64", base64.urlsafe_b64encode(v.encode("utf-8")).decode("utf-8")
    return k, quote_plus(v)


def _use_gateway(
    method: str, gateway: str, job: str, registry: Any, grouping_key: Optional[Dict[str, Any]],
    timeout: Optional[float], handler: Callable[..., Callable[[], None]], compression: Optional[str] = None,
) -> None:
    gateway_url = urlparse(gateway)
    if not gateway_url.scheme or gateway_url.scheme not in ("http", "https"):
        gateway = f"http://{gateway}"
    gateway = gateway.rstrip("/")
    url = "{}/metrics/{}/{}".format(gateway, *_escape_grouping_key("job", job))
    data = b""
    headers = [("Content-Type", CONTENT_TYPE_PLAIN_0_0_4)]
    if method != "DELETE":
        if registry is None:
            registry = REGISTRY
        data = generate_latest(registry)
        if compression is not None:
            if compression != "gzip":
                raise ValueError(f"Unsupported compression type: {compression}")
            data = gzip.compress(data)
            headers.append(("Content-Encoding", "gzip"))
    url += "".join("/{}/{}".format(*_escape_grouping_key(str(k), str(v))) for k, v in sorted((grouping_key or {}).items()))
    handler(url=url, method=method, timeout=timeout, headers=headers, data=data)()


def push_to_gateway(
    gateway: str, job: str, registry: Any, grouping_key: Optional[Dict[str, Any]] = None,
    timeout: Optional[float] = 30, handler: Callable[..., Callable[[], None]] = default_handler,
    compression: Optional[str] = None,
) -> None:
    """Replaces the job's metrics on the Pushgateway with ``registry``'s (HTTP PUT)."""
    _use_gateway("PUT", gateway, job, registry, grouping_key, timeout, handler, compression)


def pushadd_to_gateway(
    gateway: str, job: str, registry: Any, grouping_key: Optional[Dict[str, Any]] = None,
    timeout: Optional[float] = 30, handler: Callable[..., Callable[[], None]] = default_handler,
    compression: Optional[str] = None,
) -> None:
    """Replaces the metrics of the same names on the Pushgateway (HTTP POST)."""
    _use_gateway("POST", gateway, job, registry, grouping_key, timeout, handler, compression)


def delete_from_gateway(
    gateway: str, job: str, grouping_key: Optional[Dict[str, Any]] = None,
    timeout: Optional[float] = 30, handler: Callable[..., Callable[[], None]] = default_handler,
) -> None:
    """Deletes the job's metrics from the Pushgateway (HTTP DELETE)."""
    _use_gateway("DELETE", gateway, job, None, grouping_key, timeout, handler)


def instance_ip_grouping_key() -> Dict[str, Any]:
    """``{"instance": <this host's IP address>}``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("localhost", 0))
        return {"instance": s.getsockname()[0]}


__all__ = [
    "CONTENT_TYPE_LATEST", "CONTENT_TYPE_OPENMETRICS", "CONTENT_TYPE_PLAIN_0_0_4",
    "CONTENT_TYPE_PLAIN_1_0_0", "MetricsHandler", "basic_auth_handler", "choose_encoder",
    "default_handler", "delete_from_gateway", "generate_latest", "generate_latest_openmetrics",
    "gzip_accepted", "instance_ip_grouping_key", "make_asgi_app", "make_wsgi_app",
    "passthrough_redirect_handler", "push_to_gateway", "pushadd_to_gateway", "start_http_server",
    "start_wsgi_server", "tls_auth_handler", "write_to_textfile",
]
_ = (BaseHandler, HTTPError)
