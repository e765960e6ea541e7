//! Accepting connections, HTTP/1.1 through hyper, and the endpoints.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Body as _, Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::ServeOptions;
use super::auth::Credentials;
use super::io::StallGuard;
use super::live;
use crate::clock;
use crate::collect::FamilySnapshot;
use crate::expose::{encode_with, negotiate};
use crate::registry::Registry;
use crate::stats::RegistrySummary;

pub(crate) type Body = Full<Bytes>;

#[cfg(feature = "tls")]
pub(crate) type Acceptor = tokio_rustls::TlsAcceptor;
/// No acceptor can exist without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub(crate) enum NoTls {}
#[cfg(not(feature = "tls"))]
pub(crate) type Acceptor = NoTls;

/// The dashboard and its assets, compiled in.
const DASHBOARD_HTML: &str = include_str!("assets/index.html");
const DASHBOARD_JS: &str = include_str!("assets/dashboard.js");
const UPLOT_JS: &str = include_str!("assets/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("assets/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("assets/uPlot.LICENSE");

/// Everything the connections share.
pub(crate) struct State {
    pub(crate) registry: Registry,
    pub(crate) opts: ServeOptions,
    credentials: Option<Credentials>,
    acceptor: Option<Acceptor>,
    pub(crate) stop: watch::Receiver<bool>,
    connections: Arc<Semaphore>,
    pub(crate) live: live::Hub,
    started_unix: f64,
    /// Counter totals at two moments at least a second apart, for `/api/v1/snapshot`'s
    /// rates: (older, newer).
    rate_baseline: Mutex<(Option<Totals>, Option<Totals>)>,
}

/// Counter totals by series id at a moment (Unix seconds).
type Totals = (f64, BTreeMap<String, f64>);

impl State {
    pub(crate) fn new(
        registry: Registry,
        opts: ServeOptions,
        acceptor: Option<Acceptor>,
        stop: watch::Receiver<bool>,
    ) -> Self {
        Self {
            registry,
            credentials: opts.auth.as_ref().map(Credentials::new),
            acceptor,
            stop,
            connections: Arc::new(Semaphore::new(opts.limits.max_connections)),
            live: live::Hub::default(),
            started_unix: clock::unix_seconds(),
            rate_baseline: Mutex::new((None, None)),
            opts,
        }
    }
}

/// Accepts until told to stop, then drops every connection.
pub(crate) async fn run(listener: std::net::TcpListener, state: State) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("metricore server: cannot use the bound socket: {e}");
            return;
        }
    };
    let state = Arc::new(state);
    let mut stop = state.stop.clone();
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            // A send or a dropped handle: either way, stop.
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Small responses and frames go out at once.
                    let _ = stream.set_nodelay(true);
                    match Arc::clone(&state.connections).try_acquire_owned() {
                        Ok(permit) => {
                            tasks.spawn(connection(Arc::clone(&state), stream, permit));
                        }
                        Err(_) => {
                            tasks.spawn(refuse(stream, state.acceptor.is_some()));
                        }
                    }
                }
                // Out of descriptors, or a connection reset before it was accepted: wait a
                // little rather than spin, and go on.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    tasks.shutdown().await;
}

/// Answers a connection past [`Limits::max_connections`](super::Limits) with `503` and
/// closes it (TLS connections are closed without an answer: there is no handshake to
/// spend on them).
async fn refuse(mut stream: TcpStream, tls: bool) {
    if tls {
        return;
    }
    let answer = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\nretry-after: 1\r\ncontent-type: text/plain\r\ncontent-length: 29\r\n\r\ntoo many connections, retry\r\n";
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(answer).await?;
        stream.shutdown().await?;
        // Read what the client sent until it closes, so that closing does not reset the
        // connection before it has read the answer.
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

async fn connection(state: Arc<State>, stream: TcpStream, _permit: OwnedSemaphorePermit) {
    let stream = StallGuard::new(stream, state.opts.limits.write_timeout);
    match &state.acceptor {
        None => serve_http(state, stream).await,
        #[cfg(feature = "tls")]
        Some(acceptor) => {
            let handshake = acceptor.accept(stream);
            if let Ok(Ok(tls)) =
                tokio::time::timeout(state.opts.limits.header_timeout, handshake).await
            {
                serve_http(state, tls).await;
            }
        }
        #[cfg(not(feature = "tls"))]
        Some(never) => match *never {},
    }
}

async fn serve_http<S>(state: Arc<State>, io: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = &state.opts.limits;
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        // hyper reads at least 8 KiB and refuses a smaller limit.
        .max_buf_size(limits.max_header_bytes.max(8192));
    let service_state = Arc::clone(&state);
    let service = service_fn(move |req| {
        let state = Arc::clone(&service_state);
        async move { Ok::<_, Infallible>(route(&state, req).await) }
    });
    // An error here is the client's (a reset, a malformed request hyper has answered, a
    // timeout): the connection ends and nothing else is affected.
    let _ = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades()
        .await;
}

pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut r = respond(status, "application/json", value.to_string());
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({ "error": message }))
}

/// `name`'s value in a query string (`a=1&b=2`), percent-decoded; every value for a name
/// given several times.
pub(crate) fn query_values<'q>(
    query: Option<&'q str>,
    name: &'q str,
) -> impl Iterator<Item = String> + 'q {
    query
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k)?, percent_decode(v)?))
        })
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v)
}

/// `%XX` escapes and `+` (a space, in forms) decoded; `None` for a malformed escape or
/// bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

async fn route(state: &Arc<State>, req: Request<Incoming>) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD are served",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    if !req.body().is_end_stream() {
        // Nothing here takes a body; closing spares reading one.
        let mut r = error(StatusCode::PAYLOAD_TOO_LARGE, "requests here carry no body");
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return r;
    }
    let path = req.uri().path();
    // The dashboard's page and scripts are the same public files in every build and hold
    // no data; they load without credentials so that a browser given `?access_token=` can
    // open the page, which then passes the token to /live.
    let public = matches!(path, "/" | "/index.html") || path.starts_with("/assets/");
    if let Some(credentials) = state.credentials.as_ref().filter(|_| !public) {
        let token = query_values(req.uri().query(), "access_token").next();
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        if !credentials.accepts(header, token.as_deref().map(str::as_bytes)) {
            let mut r = error(StatusCode::UNAUTHORIZED, "missing or wrong credentials");
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(credentials.challenge),
            );
            return r;
        }
    }
    if path == state.opts.metrics_path {
        return metrics(state, &req).await;
    }
    match path {
        "/health" => health(state),
        "/ready" => ready(state).await,
        "/api/v1/snapshot" => snapshot(state).await,
        "/live" => live::upgrade(state, req),
        "/" | "/index.html" => asset("text/html; charset=utf-8", DASHBOARD_HTML),
        "/assets/dashboard.js" => asset("text/javascript; charset=utf-8", DASHBOARD_JS),
        "/assets/uPlot.iife.min.js" => asset("text/javascript; charset=utf-8", UPLOT_JS),
        "/assets/uPlot.min.css" => asset("text/css; charset=utf-8", UPLOT_CSS),
        "/assets/uPlot.LICENSE" => asset("text/plain; charset=utf-8", UPLOT_LICENSE),
        _ => error(StatusCode::NOT_FOUND, "no such path"),
    }
}

fn asset(content_type: &'static str, text: &'static str) -> Response<Body> {
    let mut r = respond(
        StatusCode::OK,
        content_type,
        Bytes::from_static(text.as_bytes()),
    );
    let headers = r.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // The page loads only its own scripts and talks only to this server.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        ),
    );
    r
}

/// Runs `work` on a render thread; `None` when it panicked (a collector's bug).
async fn render<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(work).await.ok()
}

/// Whether `Accept-Encoding` takes gzip: `gzip` or `*` with a weight above 0.
fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|header| {
        header.split(',').any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (name.eq_ignore_ascii_case("gzip") || name == "*") && q > 0.0
        })
    })
}

/// Whether `family` is one of `names`: its own name or one of the sample names it writes.
fn family_matches(family: &FamilySnapshot, names: &[String]) -> bool {
    const SUFFIXES: [&str; 6] = ["", "_total", "_bucket", "_count", "_sum", "_created"];
    names.iter().any(|n| {
        n.strip_prefix(family.name.as_str())
            .is_some_and(|rest| SUFFIXES.contains(&rest))
    })
}

fn header_str(req: &Request<Incoming>, name: header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn metrics(state: &Arc<State>, req: &Request<Incoming>) -> Response<Body> {
    let accept = header_str(req, header::ACCEPT);
    let gzip = accepts_gzip(header_str(req, header::ACCEPT_ENCODING).as_deref());
    let names: Vec<String> = query_values(req.uri().query(), "name[]").collect();
    let registry = state.registry.clone();
    let dialect = state.opts.dialect;
    let rendered = render(move || {
        let mut families = registry.gather();
        if !names.is_empty() {
            families.retain(|f| family_matches(f, &names));
        }
        let format = negotiate(accept.as_deref());
        let body = encode_with(&families, format, dialect);
        let body = if gzip { gzip_bytes(&body) } else { body };
        (body, dialect.content_type(format))
    })
    .await;
    let Some((body, content_type)) = rendered else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "rendering failed");
    };
    let mut r = respond(StatusCode::OK, content_type, body);
    let headers = r.headers_mut();
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Encoding"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r
}

fn gzip_bytes(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    encoder
        .write_all(body)
        .and_then(|()| encoder.try_finish())
        .expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

fn health(state: &Arc<State>) -> Response<Body> {
    json(
        StatusCode::OK,
        &serde_json::json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_seconds": clock::unix_seconds() - state.started_unix,
        }),
    )
}

async fn ready(state: &Arc<State>) -> Response<Body> {
    let checks = state.opts.ready_checks.clone();
    let outcome = render(move || {
        let mut passed = Vec::new();
        for (name, check) in &checks {
            match check() {
                Ok(()) => passed.push(name.clone()),
                Err(reason) => return (passed, Some((name.clone(), reason))),
            }
        }
        (passed, None)
    })
    .await;
    match outcome {
        Some((passed, None)) => json(
            StatusCode::OK,
            &serde_json::json!({ "status": "ready", "passed": passed }),
        ),
        Some((passed, Some((failed, reason)))) => json(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({
                "status": "not ready",
                "failed": failed,
                "reason": reason,
                "passed": passed,
            }),
        ),
        None => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "a readiness check panicked",
        ),
    }
}

async fn snapshot(state: &Arc<State>) -> Response<Body> {
    let registry = state.registry.clone();
    let uptime = clock::unix_seconds() - state.started_unix;
    let state_for_rates = Arc::clone(state);
    let body = render(move || {
        let families = registry.gather();
        let now = clock::unix_seconds();
        let summary = RegistrySummary::from_families(&families, now);
        let rates = state_for_rates.rates(now, &summary.counters);
        serde_json::to_vec(&serde_json::json!({
            "collected_at": now,
            "uptime_seconds": uptime,
            "families": families,
            "summary": summary,
            "counter_rates": rates,
        }))
        .unwrap_or_default()
    })
    .await;
    match body {
        Some(body) => {
            let mut r = respond(StatusCode::OK, "application/json", body);
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        None => error(StatusCode::INTERNAL_SERVER_ERROR, "rendering failed"),
    }
}

impl State {
    /// Per-second increase of each counter series between the older kept totals and now.
    /// Totals are kept at most one per second, so that the rate covers at least a second
    /// whatever the request rate; empty on the first request.
    fn rates(&self, now: f64, counters: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
        let mut kept = self
            .rate_baseline
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if kept.1.as_ref().is_none_or(|(t, _)| now - t >= 1.0) {
            kept.0 = kept.1.take();
            kept.1 = Some((now, counters.clone()));
        }
        let Some((then, before)) = &kept.0 else {
            return BTreeMap::new();
        };
        let dt = now - then;
        counters
            .iter()
            .filter_map(|(id, v)| before.get(id).map(|b| (id.clone(), (v - b) / dt)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_acceptance_follows_weights() {
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("deflate, gzip;q=0.5")));
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn query_values_decode_brackets_and_escapes() {
        let q = Some("name%5B%5D=a_b&name[]=c%20d&x=1&name[]=%ZZ");
        let names: Vec<String> = query_values(q, "name[]").collect();
        assert_eq!(names, ["a_b", "c d"]);
    }
}
