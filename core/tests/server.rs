//! The server, started on an ephemeral loopback port and driven by real clients: hyper's
//! HTTP/1.1 client, tokio-tungstenite's WebSocket client, rustls for TLS, and raw sockets
//! for what no well-behaved client sends.

use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::rt::TokioIo;
use metricore::server::{Auth, Limits, ServeOptions, ServerHandle, serve};
use metricore::{ErrorKind, Format, HistogramOpts, MetricOpts, Registry};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn start(registry: &Registry, opts: ServeOptions) -> ServerHandle {
    serve(registry, opts.listen(loopback())).expect("serve on an ephemeral port")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// One request on a fresh connection over `io`, with hyper's client.
async fn request_over<S>(
    io: S,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &'static [u8],
) -> Reply
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .expect("HTTP handshake");
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = sender
        .send_request(req.body(Full::new(Bytes::from_static(body))).unwrap())
        .await
        .expect("response");
    let (parts, body) = res.into_parts();
    let body = body.collect().await.expect("body").to_bytes().to_vec();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let stream = TcpStream::connect(addr).await.expect("connect");
    request_over(stream, method, path, headers, b"").await
}

fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    runtime().block_on(request(addr, "GET", path, headers))
}

fn registry_with_traffic() -> Registry {
    let registry = Registry::new();
    let requests = registry
        .counter_family(MetricOpts::new("http_requests", "Requests.").labels(["status"]))
        .unwrap();
    requests.with_label_values(&["200"]).unwrap().inc_by(7);
    requests.with_label_values(&["500"]).unwrap().inc_by(2);
    registry
        .gauge(MetricOpts::new("queue_depth", "Jobs waiting."))
        .unwrap()
        .set(3.0);
    let latency = registry
        .histogram(
            MetricOpts::new("request_duration_seconds", "Latency."),
            HistogramOpts::latency(),
        )
        .unwrap();
    for ms in 1..=100 {
        latency.record_ms(f64::from(ms)).unwrap();
    }
    registry
}

#[test]
fn metrics_are_negotiated_by_accept() {
    let registry = registry_with_traffic();
    let server = start(&registry, ServeOptions::new());
    let addr = server.local_addr();

    let text = get(addr, "/metrics", &[]);
    assert_eq!(text.status, StatusCode::OK);
    assert_eq!(
        text.header("content-type"),
        Some(Format::Text.content_type())
    );
    assert!(
        text.text()
            .contains("http_requests_total{status=\"200\"} 7\n"),
        "{}",
        text.text()
    );
    assert!(text.text().contains("queue_depth 3\n"));
    assert!(!text.text().contains("# EOF"));

    let prometheus =
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let om = get(addr, "/metrics", &[("accept", prometheus)]);
    assert_eq!(
        om.header("content-type"),
        Some(Format::OpenMetrics.content_type())
    );
    assert!(om.text().ends_with("# EOF\n"));
    assert!(om.text().contains("queue_depth 3.0\n"));
    assert_eq!(om.header("vary"), Some("Accept, Accept-Encoding"));
}

#[test]
fn metrics_are_gzipped_when_accepted() {
    let registry = registry_with_traffic();
    let server = start(&registry, ServeOptions::new());
    let addr = server.local_addr();
    let plain = get(addr, "/metrics", &[]);
    assert_eq!(plain.header("content-encoding"), None);
    let zipped = get(
        addr,
        "/metrics",
        &[("accept-encoding", "br;q=1, gzip;q=0.8")],
    );
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_ne!(zipped.body, plain.body);
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(zipped.body.as_slice())
        .read_to_string(&mut unzipped)
        .expect("a gzip stream");
    assert_eq!(unzipped, plain.text());
    let refused = get(addr, "/metrics", &[("accept-encoding", "gzip;q=0")]);
    assert_eq!(refused.header("content-encoding"), None);
}

#[test]
fn metrics_filter_by_name() {
    let registry = registry_with_traffic();
    let server = start(&registry, ServeOptions::new());
    let addr = server.local_addr();
    let only = get(addr, "/metrics?name[]=queue_depth", &[]).text();
    assert!(only.contains("queue_depth 3"));
    assert!(!only.contains("http_requests"));
    // Sample names select their family; brackets may come percent-encoded.
    let two = get(
        addr,
        "/metrics?name%5B%5D=http_requests_total&name[]=request_duration_seconds_bucket",
        &[],
    )
    .text();
    assert!(two.contains("http_requests_total{status=\"500\"} 2"));
    assert!(two.contains("request_duration_seconds_count 100"));
    assert!(!two.contains("queue_depth"));
    let none = get(addr, "/metrics?name[]=nothing_here", &[]);
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.text(), "");
}

#[test]
fn head_answers_headers_without_a_body() {
    let registry = registry_with_traffic();
    let server = start(&registry, ServeOptions::new());
    let reply = runtime().block_on(request(server.local_addr(), "HEAD", "/metrics", &[]));
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some(Format::Text.content_type())
    );
    assert!(reply.body.is_empty());
}

#[test]
fn health_and_readiness() {
    let registry = Registry::new();
    let database_up = Arc::new(AtomicBool::new(true));
    let up = Arc::clone(&database_up);
    let server = start(
        &registry,
        ServeOptions::new()
            .ready_check("config", || Ok(()))
            .ready_check("database", move || {
                if up.load(Ordering::SeqCst) {
                    Ok(())
                } else {
                    Err("connection refused".to_owned())
                }
            }),
    );
    let addr = server.local_addr();
    let health = get(addr, "/health", &[]);
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.header("content-type"), Some("application/json"));
    assert_eq!(health.json()["status"], "ok");

    let ready = get(addr, "/ready", &[]);
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(
        ready.json()["passed"],
        serde_json::json!(["config", "database"])
    );

    database_up.store(false, Ordering::SeqCst);
    let not_ready = get(addr, "/ready", &[]);
    assert_eq!(not_ready.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = not_ready.json();
    assert_eq!(body["failed"], "database");
    assert_eq!(body["reason"], "connection refused");
    assert_eq!(body["passed"], serde_json::json!(["config"]));
    // Liveness does not depend on readiness.
    assert_eq!(get(addr, "/health", &[]).status, StatusCode::OK);
}

#[test]
fn snapshot_has_families_quantiles_latency_and_rates() {
    let registry = registry_with_traffic();
    let server = start(&registry, ServeOptions::new());
    let addr = server.local_addr();
    let first = get(addr, "/api/v1/snapshot", &[]).json();
    let families = first["families"].as_array().unwrap();
    let names: Vec<&str> = families
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["http_requests", "queue_depth", "request_duration_seconds"]
    );
    let hist = &families[2]["series"][0]["value"];
    // 1..=100 ms: the median is 50 ms within the histogram's 0.1 %.
    let p50 = hist["p50"].as_f64().unwrap();
    assert!((p50 - 0.050).abs() <= 0.050 * 1e-3, "{p50}");
    let latency = &first["summary"]["histograms"]["request_duration_seconds"]["latency"];
    assert_eq!(latency["count"], 100);
    assert_eq!(latency["max_ms"], 100.0);
    assert_eq!(
        first["summary"]["counters"]["http_requests{status=\"200\"}"],
        7
    );

    // Rates need two totals a second apart.
    std::thread::sleep(Duration::from_millis(1100));
    registry
        .counter_family(MetricOpts::new("http_requests", "Requests.").labels(["status"]))
        .unwrap()
        .with_label_values(&["200"])
        .unwrap()
        .inc_by(11);
    let second = get(addr, "/api/v1/snapshot", &[]).json();
    let rate = second["counter_rates"]["http_requests{status=\"200\"}"]
        .as_f64()
        .unwrap();
    // 11 more over a little more than a second.
    assert!(rate > 5.0 && rate <= 11.0, "{rate}");
    assert_eq!(
        second["counter_rates"]["http_requests{status=\"500\"}"],
        0.0
    );
}

#[test]
fn dashboard_and_its_assets_are_served() {
    let server = start(&Registry::new(), ServeOptions::new());
    let addr = server.local_addr();
    let page = get(addr, "/", &[]);
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.header("content-security-policy").is_some());
    for asset in [
        "/assets/uPlot.iife.min.js",
        "/assets/uPlot.min.css",
        "/assets/dashboard.js",
    ] {
        assert!(page.text().contains(asset), "the page loads {asset}");
        let reply = get(addr, asset, &[]);
        assert_eq!(reply.status, StatusCode::OK, "{asset}");
        assert!(!reply.body.is_empty());
    }
    let uplot = get(addr, "/assets/uPlot.iife.min.js", &[]).text();
    assert!(uplot.starts_with("/*! https://github.com/leeoniya/uPlot"));
    assert!(
        get(addr, "/assets/uPlot.LICENSE", &[])
            .text()
            .contains("MIT License")
    );
}

#[test]
fn wrong_methods_paths_and_bodies_get_their_status() {
    let server = start(&registry_with_traffic(), ServeOptions::new());
    let addr = server.local_addr();
    let rt = runtime();
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let reply = rt.block_on(request(addr, method, "/metrics", &[]));
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    }
    assert_eq!(get(addr, "/nope", &[]).status, StatusCode::NOT_FOUND);
    assert_eq!(get(addr, "/metrics/", &[]).status, StatusCode::NOT_FOUND);
    let with_body = rt.block_on(async {
        let stream = TcpStream::connect(addr).await.unwrap();
        request_over(stream, "GET", "/metrics", &[], b"unexpected").await
    });
    assert_eq!(with_body.status, StatusCode::PAYLOAD_TOO_LARGE);
    // A WebSocket path asked for as a page.
    assert_eq!(get(addr, "/live", &[]).status, StatusCode::UPGRADE_REQUIRED);
    // The server still serves.
    assert_eq!(get(addr, "/metrics", &[]).status, StatusCode::OK);
}

/// Writes `bytes` on a raw connection and returns what the server answers before closing.
async fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn malformed_and_oversized_requests_are_refused() {
    let server = start(
        &Registry::new(),
        ServeOptions::new().limits(Limits {
            max_header_bytes: 8192,
            ..Limits::default()
        }),
    );
    let addr = server.local_addr();
    let rt = runtime();
    let garbage = rt.block_on(raw_exchange(addr, b"\x16\x03\x01 not http at all\r\n\r\n"));
    assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage:?}");
    let huge = format!(
        "GET /metrics HTTP/1.1\r\nhost: x\r\nx-padding: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let oversized = rt.block_on(raw_exchange(addr, huge.as_bytes()));
    assert!(oversized.starts_with("HTTP/1.1 431"), "{oversized:?}");
    assert_eq!(get(addr, "/health", &[]).status, StatusCode::OK);
}

#[test]
fn slow_headers_are_cut_off() {
    let server = start(
        &Registry::new(),
        ServeOptions::new().limits(Limits {
            header_timeout: Duration::from_millis(300),
            ..Limits::default()
        }),
    );
    let addr = server.local_addr();
    runtime().block_on(async {
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        // Others are served meanwhile.
        assert_eq!(
            request(addr, "GET", "/health", &[]).await.status,
            StatusCode::OK
        );
        let started = Instant::now();
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "the server closed the slow connection");
        assert!(started.elapsed() < Duration::from_secs(3));
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer:?}"
        );
    });
}

#[test]
fn a_client_that_never_reads_is_dropped_and_others_are_served() {
    // Large responses, pipelined and never read: the socket buffers fill and the server's
    // writes stall.
    let registry = Registry::new();
    let family = registry
        .counter_family(MetricOpts::new("wide", "Many series.").labels(["i"]))
        .unwrap();
    for i in 0..20_000 {
        family.with_label_values(&[&i.to_string()]).unwrap().inc();
    }
    let server = start(
        &registry,
        ServeOptions::new().limits(Limits {
            max_connections: 1,
            write_timeout: Duration::from_millis(300),
            ..Limits::default()
        }),
    );
    let addr = server.local_addr();
    runtime().block_on(async {
        let mut deaf = TcpStream::connect(addr).await.unwrap();
        let pipelined = "GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n".repeat(64);
        deaf.write_all(pipelined.as_bytes()).await.unwrap();
        // The one connection allowed is held: another client is refused...
        tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = raw_exchange(addr, b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n").await;
        assert!(refused.starts_with("HTTP/1.1 503"), "{refused:?}");
        // ...until the stalled write times out and the deaf client is dropped.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answer = raw_exchange(
                addr,
                b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
            )
            .await;
            if answer.starts_with("HTTP/1.1 200") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the deaf client was never dropped"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(deaf);
    });
}

#[test]
fn connections_past_the_limit_get_503() {
    let server = start(
        &Registry::new(),
        ServeOptions::new().limits(Limits {
            max_connections: 2,
            ..Limits::default()
        }),
    );
    let addr = server.local_addr();
    runtime().block_on(async {
        let first = TcpStream::connect(addr).await.unwrap();
        let second = TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let third = raw_exchange(addr, b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n").await;
        assert!(third.starts_with("HTTP/1.1 503"), "{third:?}");
        drop(first);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            request(addr, "GET", "/health", &[]).await.status,
            StatusCode::OK
        );
        drop(second);
    });
}

#[test]
fn bearer_token_is_required_when_set() {
    let server = start(
        &registry_with_traffic(),
        ServeOptions::new().auth(Auth::Bearer("s3cret".to_owned())),
    );
    let addr = server.local_addr();
    for headers in [
        &[][..],
        &[("authorization", "Bearer wrong")][..],
        &[("authorization", "Basic czNjcmV0")][..],
    ] {
        let reply = get(addr, "/metrics", headers);
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{headers:?}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer realm=\"metricore\"")
        );
        assert!(!reply.text().contains("http_requests"));
    }
    assert_eq!(get(addr, "/health", &[]).status, StatusCode::UNAUTHORIZED);
    let ok = get(addr, "/metrics", &[("authorization", "Bearer s3cret")]);
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.text().contains("http_requests_total"));
    assert_eq!(
        get(addr, "/metrics?access_token=s3cret", &[]).status,
        StatusCode::OK
    );
    assert_eq!(
        get(addr, "/metrics?access_token=nope", &[]).status,
        StatusCode::UNAUTHORIZED
    );
    // The dashboard's static files load without credentials (they hold no data); its
    // stream does not.
    assert_eq!(get(addr, "/", &[]).status, StatusCode::OK);
    assert_eq!(
        get(addr, "/assets/dashboard.js", &[]).status,
        StatusCode::OK
    );
    assert_eq!(get(addr, "/live", &[]).status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(addr, "/assets/../metrics", &[]).status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn basic_auth_is_required_when_set() {
    let server = start(
        &registry_with_traffic(),
        ServeOptions::new().auth(Auth::Basic {
            user: "prometheus".to_owned(),
            password: "hunter2".to_owned(),
        }),
    );
    let addr = server.local_addr();
    let denied = get(
        addr,
        "/metrics",
        &[("authorization", "Basic cHJvbWV0aGV1czpodW50ZXIz")],
    );
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    assert!(
        denied
            .header("www-authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    // base64("prometheus:hunter2"), worked out with coreutils' base64.
    let ok = get(
        addr,
        "/metrics",
        &[("authorization", "Basic cHJvbWV0aGV1czpodW50ZXIy")],
    );
    assert_eq!(ok.status, StatusCode::OK);
}

#[test]
fn an_address_in_use_is_a_typed_error_naming_it() {
    let taken = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = taken.local_addr().unwrap();
    let err = serve(&Registry::new(), ServeOptions::new().listen(addr)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    assert!(err.to_string().contains("in use"), "{err}");
}

#[test]
fn bad_options_are_refused_at_start() {
    for opts in [
        ServeOptions::new().metrics_path("metrics"),
        ServeOptions::new().metrics_path("/health"),
        ServeOptions::new().limits(Limits {
            max_connections: 0,
            ..Limits::default()
        }),
    ] {
        let err = serve(&Registry::new(), opts.listen(loopback())).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err}");
    }
}

#[test]
fn custom_metrics_path() {
    let server = start(
        &registry_with_traffic(),
        ServeOptions::new().metrics_path("/prom"),
    );
    let addr = server.local_addr();
    assert!(get(addr, "/prom", &[]).text().contains("queue_depth 3"));
    assert_eq!(get(addr, "/metrics", &[]).status, StatusCode::NOT_FOUND);
}

#[test]
fn shutdown_stops_serving() {
    let server = start(&Registry::new(), ServeOptions::new());
    let addr = server.local_addr();
    assert_eq!(get(addr, "/health", &[]).status, StatusCode::OK);
    server.shutdown();
    assert!(std::net::TcpStream::connect(addr).is_err());
}

// ------------------------------------------------------------------------- WebSocket

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

async fn live(addr: SocketAddr, query: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let url = format!("ws://{addr}/live{query}");
    tokio_tungstenite::client_async(url, stream)
        .await
        .map(|(ws, _)| ws)
}

async fn next_frame(ws: &mut Ws) -> serde_json::Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).unwrap(),
            Ok(Some(Ok(_))) => {}
            other => panic!("no frame: {other:?}"),
        }
    }
}

/// Frames received in `window`, after the first.
async fn count_frames(ws: &mut Ws, window: Duration) -> usize {
    next_frame(ws).await;
    let end = tokio::time::Instant::now() + window;
    let mut n = 0;
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(end, ws.next()).await {
        if message.is_text() {
            n += 1;
        }
    }
    n
}

#[test]
fn live_streams_deltas_at_the_requested_rate() {
    let registry = registry_with_traffic();
    let jobs = registry
        .counter(MetricOpts::new("jobs", "Jobs run."))
        .unwrap();
    let server = start(&registry, ServeOptions::new());
    let addr = server.local_addr();
    runtime().block_on(async {
        let mut ws = live(addr, "?fps=20").await.unwrap();
        let first = next_frame(&mut ws).await;
        assert_eq!(first["full"], true);
        assert_eq!(first["fps"], 20);
        assert_eq!(first["counters"]["http_requests{status=\"200\"}"], 7.0);
        assert_eq!(first["gauges"]["queue_depth"], 3.0);
        assert_eq!(
            first["histograms"]["request_duration_seconds"]["count"],
            100
        );
        assert_eq!(first["bands"].as_array().unwrap().len(), 33);

        // Unchanged series are not sent again; a change is.
        let quiet = next_frame(&mut ws).await;
        assert_eq!(quiet["full"], false);
        assert_eq!(quiet["counters"], serde_json::json!({}));
        jobs.inc_by(5);
        let changed = loop {
            let frame = next_frame(&mut ws).await;
            if frame["counters"].get("jobs").is_some() {
                break frame;
            }
        };
        assert_eq!(changed["counters"], serde_json::json!({ "jobs": 5.0 }));

        // 20 frames per second, counted over two seconds (scheduling may cost a frame or two).
        let n = count_frames(&mut ws, Duration::from_secs(2)).await;
        assert!((36..=42).contains(&n), "{n} frames in 2 s at 20 fps");

        // A message changes the rate.
        ws.send(Message::text("{\"fps\": 5}")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let n = count_frames(&mut ws, Duration::from_secs(2)).await;
        assert!((8..=12).contains(&n), "{n} frames in 2 s at 5 fps");
    });
}

#[test]
fn live_serves_60_fps_and_caps_higher_asks() {
    let server = start(&registry_with_traffic(), ServeOptions::new());
    let addr = server.local_addr();
    runtime().block_on(async {
        let mut ws = live(addr, "?fps=240").await.unwrap();
        assert_eq!(next_frame(&mut ws).await["fps"], 60);
        let n = count_frames(&mut ws, Duration::from_secs(2)).await;
        assert!((100..=122).contains(&n), "{n} frames in 2 s at 60 fps");
        let bad = live(addr, "?fps=zero").await.unwrap_err();
        assert!(bad.to_string().contains("400"), "{bad}");
    });
}

#[test]
fn live_clients_past_the_limit_get_503() {
    let server = start(
        &Registry::new(),
        ServeOptions::new().limits(Limits {
            max_live_clients: 1,
            ..Limits::default()
        }),
    );
    let addr = server.local_addr();
    runtime().block_on(async {
        let mut first = live(addr, "").await.unwrap();
        next_frame(&mut first).await;
        let refused = live(addr, "").await.unwrap_err();
        assert!(refused.to_string().contains("503"), "{refused}");
        first.close(None).await.unwrap();
        drop(first);
        // The place is given back once the server has seen the close.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(mut ws) = live(addr, "").await {
                next_frame(&mut ws).await;
                break;
            }
            assert!(Instant::now() < deadline, "the place was never given back");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}

#[test]
fn a_live_client_that_does_not_read_is_dropped() {
    // Every frame carries thousands of changed series, so a client that does not read
    // fills the socket buffers, then its queue of two frames.
    let registry = Registry::new();
    let family = registry
        .counter_family(MetricOpts::new("busy", "Always changing.").labels(["i"]))
        .unwrap();
    let counters: Vec<_> = (0..3000)
        .map(|i| family.with_label_values(&[&i.to_string()]).unwrap())
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let writer_stop = Arc::clone(&stop);
    let writer = std::thread::spawn(move || {
        while !writer_stop.load(Ordering::Relaxed) {
            for c in &counters {
                c.inc();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let server = start(
        &registry,
        ServeOptions::new().limits(Limits {
            max_live_clients: 1,
            live_queue_frames: 2,
            ..Limits::default()
        }),
    );
    let addr = server.local_addr();
    runtime().block_on(async {
        let deaf = live(addr, "?fps=60").await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if let Ok(mut ws) = live(addr, "?fps=1").await {
                next_frame(&mut ws).await;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the deaf client was never dropped"
            );
        }
        drop(deaf);
    });
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
}

// ------------------------------------------------------------------------- TLS

#[cfg(feature = "tls")]
mod tls {
    use super::*;
    use metricore::server::TlsOptions;
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa,
        KeyPair,
    };
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use tokio_rustls::TlsConnector;
    use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

    struct Pki {
        dir: std::path::PathBuf,
        server_cert: String,
        client_cert: String,
        client_key: String,
    }

    /// A CA, a server certificate for localhost and a client certificate, all signed by it,
    /// written to a temporary directory.
    fn pki(tag: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("metricore-tls-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&server_key, &ca)
            .unwrap();
        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(vec!["scraper".to_owned()]).unwrap();
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = client_params.signed_by(&client_key, &ca).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("server.pem"), server.pem()).unwrap();
        std::fs::write(dir.join("server.key"), server_key.serialize_pem()).unwrap();
        Pki {
            dir,
            server_cert: server.pem(),
            client_cert: client.pem(),
            client_key: client_key.serialize_pem(),
        }
    }

    impl Drop for Pki {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn connector(pki: &Pki, with_client_cert: bool) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        let ca = CertificateDer::from_pem_file(pki.dir.join("ca.pem")).unwrap();
        roots.add(ca).unwrap();
        #[allow(deprecated)] // ring's provider, as the server uses
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = if with_client_cert {
            let cert = CertificateDer::from_pem_slice(pki.client_cert.as_bytes()).unwrap();
            let key = PrivateKeyDer::from_pem_slice(pki.client_key.as_bytes()).unwrap();
            builder.with_client_auth_cert(vec![cert], key).unwrap()
        } else {
            builder.with_no_client_auth()
        };
        TlsConnector::from(Arc::new(config))
    }

    async fn get_tls(
        addr: SocketAddr,
        connector: &TlsConnector,
        path: &str,
    ) -> std::io::Result<Reply> {
        let tcp = TcpStream::connect(addr).await?;
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await?;
        Ok(request_over(tls, "GET", path, &[], b"").await)
    }

    fn tls_options(pki: &Pki, client_ca: bool) -> TlsOptions {
        TlsOptions {
            cert: pki.dir.join("server.pem"),
            key: pki.dir.join("server.key"),
            client_ca: client_ca.then(|| pki.dir.join("ca.pem")),
            client_cert_required: client_ca,
        }
    }

    #[test]
    fn serves_https_with_the_given_certificate() {
        let pki = pki("plain");
        assert!(pki.server_cert.starts_with("-----BEGIN CERTIFICATE-----"));
        let server = start(
            &registry_with_traffic(),
            ServeOptions::new().tls(tls_options(&pki, false)),
        );
        let addr = server.local_addr();
        runtime().block_on(async {
            let reply = get_tls(addr, &connector(&pki, false), "/metrics")
                .await
                .unwrap();
            assert_eq!(reply.status, StatusCode::OK);
            assert!(reply.text().contains("queue_depth 3"));
            // Plain HTTP on the TLS port gets no HTTP answer.
            let answer = raw_exchange(addr, b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n").await;
            assert!(!answer.contains("queue_depth"), "{answer:?}");
            // The server still serves TLS clients.
            assert_eq!(
                get_tls(addr, &connector(&pki, false), "/health")
                    .await
                    .unwrap()
                    .status,
                StatusCode::OK
            );
        });
    }

    #[test]
    fn client_certificates_are_required_when_a_client_ca_is_given() {
        let pki = pki("mutual");
        let server = start(
            &registry_with_traffic(),
            ServeOptions::new().tls(tls_options(&pki, true)),
        );
        let addr = server.local_addr();
        runtime().block_on(async {
            let ok = get_tls(addr, &connector(&pki, true), "/health")
                .await
                .unwrap();
            assert_eq!(ok.status, StatusCode::OK);
            // Without a certificate, TLS 1.3 fails at the first read after the handshake.
            let refused = async {
                let tcp = TcpStream::connect(addr).await?;
                let mut tls = connector(&pki, false)
                    .connect(ServerName::try_from("localhost").unwrap(), tcp)
                    .await?;
                tls.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
                    .await?;
                let mut answer = Vec::new();
                tls.read_to_end(&mut answer).await?;
                Ok::<Vec<u8>, std::io::Error>(answer)
            }
            .await;
            assert!(
                refused.as_ref().is_err() || refused.as_ref().unwrap().is_empty(),
                "{refused:?}"
            );
        });
    }

    #[test]
    fn unreadable_tls_files_are_errors_naming_the_file() {
        let missing = std::path::PathBuf::from("/nonexistent/metricore/server.pem");
        let err = serve(
            &Registry::new(),
            ServeOptions::new().listen(loopback()).tls(TlsOptions {
                cert: missing.clone(),
                key: missing.clone(),
                client_ca: None,
                client_cert_required: false,
            }),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(
            err.to_string()
                .contains("/nonexistent/metricore/server.pem"),
            "{err}"
        );
    }
}
