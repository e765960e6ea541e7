//! The server's bars, measured on loopback in one run:
//!
//! 1. `/metrics` of 10k counter series to 50 concurrent scrapers (keep-alive connections,
//!    hyper's client): scrapes per second, latency, errors; beside `prometheus_client`'s
//!    `start_http_server` and prom-client behind Node's `http`, each serving the same 10k
//!    series, scraped by the same client in the same run (when found: `PEER_PYTHON`, a
//!    Python with prometheus_client, default `.venv/bin/python`; `PEER_NODE_MODULES`, a
//!    `node_modules` holding prom-client, default `bindings-node/node_modules`).
//! 2. The resident memory an idle server adds to the process.
//! 3. The CPU the server's threads spend streaming 60 frames per second to 10 `/live`
//!    clients (the clients' own CPU excluded: only the `metricore-server` and
//!    `metricore-render` threads are counted, from /proc).
//! 4. A counter increment on the application's thread, alone and while 50 scrapers scrape.
//!
//! `cargo bench -p metricore --features server --bench server [-- --quick]`

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use metricore::server::{Limits, ServeOptions, serve};
use metricore::{MetricOpts, Registry};
use tokio::net::TcpStream;

const SERIES: usize = 10_000;
const SCRAPERS: usize = 50;

struct Load {
    scrapes: usize,
    errors: usize,
    wall: Duration,
    median: Duration,
    p99: Duration,
    bytes: usize,
}

/// `SCRAPERS` connections, each scraping `per_scraper` times in turn.
fn scrape_load(addr: SocketAddr, path: &str, per_scraper: usize) -> Load {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..SCRAPERS {
            let path = path.to_owned();
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut bytes = 0;
                let mut sender = None;
                for _ in 0..per_scraper {
                    let t = Instant::now();
                    // A server that closes after each response (HTTP/1.0 style, as
                    // prometheus_client's does) gets a new connection per scrape.
                    if sender.as_ref().is_none_or(
                        |s: &hyper::client::conn::http1::SendRequest<Empty<Bytes>>| s.is_closed(),
                    ) {
                        sender = connect(addr).await;
                    }
                    let Some(s) = sender.as_mut() else {
                        errors += 1;
                        continue;
                    };
                    if s.ready().await.is_err() {
                        sender = connect(addr).await;
                    }
                    let Some(s) = sender.as_mut() else {
                        errors += 1;
                        continue;
                    };
                    let req = hyper::Request::get(path.as_str())
                        .header("host", "localhost")
                        .body(Empty::<Bytes>::new())
                        .unwrap();
                    match s.send_request(req).await {
                        Ok(res) if res.status().is_success() => {
                            match res.into_body().collect().await {
                                Ok(body) => {
                                    bytes = body.to_bytes().len();
                                    latencies.push(t.elapsed());
                                }
                                Err(_) => errors += 1,
                            }
                        }
                        _ => {
                            errors += 1;
                            sender = None;
                        }
                    }
                }
                (latencies, errors, bytes)
            });
        }
        let mut all = Vec::new();
        let mut errors = 0;
        let mut bytes = 0;
        while let Some(result) = tasks.join_next().await {
            let (latencies, e, b) = result.unwrap();
            all.extend(latencies);
            errors += e;
            bytes = bytes.max(b);
        }
        let wall = started.elapsed();
        all.sort();
        let pick = |q: f64| {
            all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Load {
            scrapes: all.len(),
            errors,
            wall,
            median: pick(0.5),
            p99: pick(0.99),
            bytes,
        }
    })
}

async fn connect(
    addr: SocketAddr,
) -> Option<hyper::client::conn::http1::SendRequest<Empty<Bytes>>> {
    let stream = TcpStream::connect(addr).await.ok()?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(conn);
    Some(sender)
}

fn report(name: &str, load: &Load) -> f64 {
    let per_scrape_ms = load.wall.as_secs_f64() * 1e3 / load.scrapes.max(1) as f64;
    println!(
        "  {name:<34} {:>5} scrapes, {:>3} errors, {:>7.2} ms/scrape (wall/scrapes), {:>6.1} scrapes/s, latency median {:>7.1} ms p99 {:>7.1} ms, {} KB",
        load.scrapes,
        load.errors,
        per_scrape_ms,
        load.scrapes as f64 / load.wall.as_secs_f64(),
        load.median.as_secs_f64() * 1e3,
        load.p99.as_secs_f64() * 1e3,
        load.bytes / 1024,
    );
    per_scrape_ms
}

/// A peer server printing its port on stdout's first line.
struct Peer {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_peer(mut command: Command) -> Option<Peer> {
    use std::io::BufRead as _;
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    let port: u16 = line.trim().parse().ok()?;
    Some(Peer {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    })
}

fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python_peer() -> Result<Peer, String> {
    let python = std::env::var("PEER_PYTHON").map_or_else(
        |_| workspace().join(".venv/bin/python"),
        std::path::PathBuf::from,
    );
    if !python.exists() {
        return Err(format!(
            "{} not found (scripts/lib.sh ensure_venv makes it)",
            python.display()
        ));
    }
    let script = format!(
        r#"
import sys, time
from prometheus_client import Counter, start_http_server
c = Counter("wide", "Many series.", ["i"])
for i in range({SERIES}):
    c.labels(str(i)).inc()
server, thread = start_http_server(0, addr="127.0.0.1")
print(server.server_port, flush=True)
time.sleep(3600)
"#
    );
    let mut command = Command::new(python);
    command.args(["-c", &script]);
    start_peer(command).ok_or_else(|| "prometheus_client did not start".to_owned())
}

fn node_peer() -> Result<Peer, String> {
    let modules = std::env::var("PEER_NODE_MODULES").map_or_else(
        |_| workspace().join("bindings-node/node_modules"),
        std::path::PathBuf::from,
    );
    if !modules.join("prom-client").exists() {
        return Err(format!("prom-client not in {}", modules.display()));
    }
    let script = format!(
        r#"
const http = require("http");
const client = require("prom-client");
const c = new client.Counter({{ name: "wide", help: "Many series.", labelNames: ["i"] }});
for (let i = 0; i < {SERIES}; i++) c.labels(String(i)).inc();
const server = http.createServer(async (req, res) => {{
  const body = await client.register.metrics();
  res.writeHead(200, {{ "content-type": client.register.contentType }});
  res.end(body);
}});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
"#
    );
    let mut command = Command::new("node");
    command.args(["-e", &script]).env("NODE_PATH", modules);
    start_peer(command).ok_or_else(|| "node with prom-client did not start".to_owned())
}

fn wide_registry() -> Registry {
    let registry = Registry::new();
    let family = registry
        .counter_family(MetricOpts::new("wide", "Many series.").labels(["i"]))
        .unwrap();
    for i in 0..SERIES {
        family.with_label_values(&[&i.to_string()]).unwrap().inc();
    }
    registry
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

/// CPU seconds (user + system) of this process's threads whose name starts with `prefix`.
fn thread_cpu_seconds(prefix: &str) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let mut total = 0.0;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3; utime 14, stime 15.
        if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            let stime: f64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            total += (utime + stime) / ticks;
        }
    }
    total
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // `cargo bench -- --test` (as the bench step runs every bench) only checks it runs.
    let smoke = std::env::args().any(|a| a == "--test");

    // ONLY=live runs the stream part alone (for profiling it).
    let only_live = std::env::var("ONLY").is_ok_and(|v| v == "live");
    if !only_live {
        scrapes_rss_and_hot_path(smoke, quick);
    }
    live(smoke, quick);
}

fn scrapes_rss_and_hot_path(smoke: bool, quick: bool) {
    let per_scraper = if smoke {
        1
    } else if quick {
        2
    } else {
        6
    };
    // 2. Idle RSS first, before anything else grows the heap.
    let registry = wide_registry();
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_bytes();
    let idle = serve(
        &Registry::new(),
        ServeOptions::new().listen("127.0.0.1:0".parse().unwrap()),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let added = rss_bytes().saturating_sub(before);
    drop(idle);
    println!("idle server: {} KB resident memory added", added / 1024);

    // 1. 50 scrapers.
    println!(
        "/metrics of {SERIES} counter series, {SCRAPERS} concurrent keep-alive scrapers x {per_scraper}:"
    );
    let server = serve(
        &registry,
        ServeOptions::new()
            .listen("127.0.0.1:0".parse().unwrap())
            .limits(Limits::default()),
    )
    .unwrap();
    let _warm = scrape_load(server.local_addr(), "/metrics", 1);
    let ours = report(
        "metricore",
        &scrape_load(server.local_addr(), "/metrics", per_scraper),
    );
    for (name, peer) in [
        (
            "prometheus_client start_http_server",
            python_peer as fn() -> Result<Peer, String>,
        ),
        ("prom-client behind node:http", node_peer),
    ] {
        if smoke {
            break;
        }
        match peer() {
            Ok(peer) => {
                let _warm = scrape_load(peer.addr, "/metrics", 1);
                let theirs = report(name, &scrape_load(peer.addr, "/metrics", per_scraper));
                println!("    metricore / {name}: {:.3}x", ours / theirs);
            }
            Err(why) => println!("  {name}: skipped ({why})"),
        }
    }

    // 4. The hot path while serving.
    let counter = registry
        .counter(MetricOpts::new("hot", "Hot path."))
        .unwrap();
    let incs = if smoke { 100_000 } else { 20_000_000 };
    // On-CPU time of this thread: with two cores shared by the scrapers, wall time would
    // mostly count the time this thread waits for a core.
    let thread_cpu = || {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes the timespec it is given.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    };
    let time_incs = || {
        let t = thread_cpu();
        for _ in 0..incs {
            counter.inc();
        }
        (thread_cpu() - t) * 1e9 / f64::from(incs)
    };
    let alone = time_incs();
    let busy = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&busy);
    let addr = server.local_addr();
    let load = std::thread::spawn(move || {
        while flag.load(Ordering::Relaxed) {
            scrape_load(addr, "/metrics", 1);
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    let scraped = time_incs();
    busy.store(false, Ordering::Relaxed);
    load.join().unwrap();
    println!(
        "counter inc on the application's thread (its CPU time): {alone:.1} ns alone, {scraped:.1} ns while 50 scrapers scrape"
    );
    drop(server);
}

fn live(smoke: bool, quick: bool) {
    // 3. 60 fps to 10 clients, on a registry a service might have: 200 series, 20 changing
    // each frame.
    let registry = Registry::new();
    let family = registry
        .counter_family(MetricOpts::new("requests", "Requests.").labels(["route"]))
        .unwrap();
    let series: Vec<_> = (0..200)
        .map(|i| family.with_label_values(&[&format!("/r{i}")]).unwrap())
        .collect();
    let server = serve(
        &registry,
        ServeOptions::new().listen("127.0.0.1:0".parse().unwrap()),
    )
    .unwrap();
    let addr = server.local_addr();
    let seconds = if smoke {
        1.0
    } else if quick {
        3.0
    } else {
        10.0
    };
    let n_clients: usize = std::env::var("LIVE_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let fps: u32 = std::env::var("LIVE_FPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let running = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&running);
    let writer = std::thread::spawn(move || {
        let mut i = 0;
        while flag.load(Ordering::Relaxed) {
            for s in series.iter().skip(i % 10).step_by(10) {
                s.inc();
            }
            i += 1;
            std::thread::sleep(Duration::from_millis(16));
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let frames = runtime.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..n_clients {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let (ws, _) =
                tokio_tungstenite::client_async(format!("ws://{addr}/live?fps={fps}"), tcp)
                    .await
                    .unwrap();
            clients.push(ws);
        }
        // Let the connections settle, then count the frames made in the window (by their
        // `t`), not those that were waiting in the sockets when it began.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let cpu_before = thread_cpu_seconds("metricore-");
        let from = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let end = tokio::time::Instant::now() + Duration::from_secs_f64(seconds);
        let mut tasks = tokio::task::JoinSet::new();
        for mut ws in clients {
            tasks.spawn(async move {
                let mut n = 0u64;
                while let Ok(Some(Ok(message))) = tokio::time::timeout_at(end, ws.next()).await {
                    let Ok(text) = message.to_text() else {
                        continue;
                    };
                    let frame: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
                    if frame["t"].as_f64().is_some_and(|t| t >= from) {
                        n += 1;
                    }
                }
                n
            });
        }
        let mut frames = 0;
        while let Some(n) = tasks.join_next().await {
            frames += n.unwrap();
        }
        (frames, thread_cpu_seconds("metricore-") - cpu_before)
    });
    running.store(false, Ordering::Relaxed);
    writer.join().unwrap();
    let (frames, cpu) = frames;
    println!(
        "/live: {n_clients} clients at {fps} fps for {seconds} s: {frames} frames ({:.1} fps per client), server threads {:.2} % of one core",
        frames as f64 / n_clients as f64 / seconds,
        cpu / seconds * 100.0
    );
    drop(server);
}
