//! `metricore`: the command-line program. `metricore serve` runs the resource sampler and
//! the HTTP server with the dashboard in the foreground, optionally with a synthetic
//! service (`--demo`) recording requests so that the dashboard has something to show.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use metricore::server::{Auth, ServeOptions, TlsOptions, serve};
use metricore::{HistogramOpts, MetricOpts, Registry};

/// Writes a line to stderr; a closed stderr (the reader went away) is no reason to fail.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

const SERVE_LONG_ABOUT: &str = "\
Runs in the foreground until interrupted (Ctrl-C, SIGINT or SIGTERM) or until --duration \
has passed: samples the process's and the machine's CPU, memory, disk, network, threads \
and file descriptors every --sample-interval seconds, and serves them, with every metric \
the program records, over HTTP:

  /metrics          Prometheus text 0.0.4 or OpenMetrics 1.0.0, as the scraper's Accept
                    header asks; gzip when accepted; ?name[]=NAME keeps only those families
  /health           liveness, JSON
  /ready            readiness, JSON (503 naming the check that failed)
  /api/v1/snapshot  every family as JSON, with HDR quantiles and latency statistics
  /live             WebSocket stream of changes, ?fps=1..60
  /                 the live dashboard

With --demo, a synthetic service records HTTP requests (http_requests_total by method, \
route and status; http_request_duration_seconds by route; http_requests_in_flight) so \
that the dashboard shows request and error rates, latency quantiles and a heatmap.

The server binds 127.0.0.1:9090 by default: reachable from this machine only. Command-line \
flags override the configuration file, which overrides the defaults.";

const SERVE_AFTER_HELP: &str = "\
CONFIGURATION FILE (TOML, --config):
  enabled = true                  # false: exit at once without serving
  address = \"127.0.0.1\"           # the address to bind
  port = 9090                     # 0 picks a free port (printed at start)
  path = \"/metrics\"               # the scrape endpoint's path
  sample_interval = 10            # seconds between resource samples
  histogram_buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
                                  # bounds (seconds) of --demo's latency histogram
  cardinality_limit = 10000       # series per family before the overflow series
  [auth]                          # optional: one of
  bearer_token = \"...\"            #   Authorization: Bearer ... (or ?access_token=...)
  user = \"...\"                    #   HTTP Basic user and password
  password = \"...\"
  [tls]                           # optional: serve HTTPS only
  cert = \"server.pem\"             # certificate chain, PEM
  key = \"server.key\"              # private key, PEM
  client_ca = \"clients.pem\"       # optional: CAs of accepted client certificates
  client_cert_required = false    # with client_ca: refuse clients without one

EXAMPLES:
  metricore serve --demo
      Dashboard on http://127.0.0.1:9090/ with synthetic traffic.
  metricore serve --listen 0.0.0.0:9100 --config /etc/metricore.toml
      Serve on every interface with the file's credentials and TLS.
  metricore serve --demo --duration 30
      Run for 30 seconds, then stop cleanly (for scripts).

EXIT STATUS:
  0  stopped by a signal or at the end of --duration, or disabled by the file
  1  could not start: the address cannot be bound (e.g. the port is taken), a file
     cannot be read, or the configuration is invalid
  2  invalid command-line arguments";

/// metricore: metrics for Rust, C, Python and Node services.
#[derive(Debug, Parser)]
#[command(name = "metricore", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sample this machine and serve /metrics, /health, /ready, /live and the dashboard.
    #[command(long_about = SERVE_LONG_ABOUT, after_long_help = SERVE_AFTER_HELP)]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:9090].
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// TOML configuration file (see CONFIGURATION FILE below).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Record a synthetic service's requests so that the dashboard has data.
    #[arg(long)]
    demo: bool,
    /// Stop cleanly after this many seconds (for scripts and tests).
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
    /// Seconds between resource samples [default: 10].
    #[arg(long, value_name = "SECONDS")]
    sample_interval: Option<f64>,
    /// Path of the scrape endpoint [default: /metrics].
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// Series per family before new label sets go to the overflow series [default: 10000].
    #[arg(long, value_name = "N")]
    cardinality_limit: Option<usize>,
    /// Require `Authorization: Bearer TOKEN`, the token read from FILE (kept out of the
    /// process list).
    #[arg(long, value_name = "FILE")]
    bearer_token_file: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// The configuration file; every key optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    enabled: Option<bool>,
    address: Option<IpAddr>,
    port: Option<u16>,
    path: Option<String>,
    sample_interval: Option<f64>,
    histogram_buckets: Option<Vec<f64>>,
    cardinality_limit: Option<usize>,
    auth: Option<FileAuth>,
    tls: Option<FileTls>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAuth {
    bearer_token: Option<String>,
    user: Option<String>,
    password: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTls {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
    #[serde(default)]
    client_cert_required: bool,
}

/// Everything `serve` needs, flags over file over defaults.
struct Settings {
    enabled: bool,
    listen: SocketAddr,
    path: String,
    sample_interval: Duration,
    buckets: Vec<f64>,
    cardinality_limit: usize,
    auth: Option<Auth>,
    tls: Option<TlsOptions>,
}

fn read_config(path: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the configuration file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn settings(args: &ServeArgs) -> Result<Settings, String> {
    let file = match &args.config {
        Some(path) => read_config(path)?,
        None => FileConfig::default(),
    };
    let default = metricore::server::DEFAULT_LISTEN;
    let listen = args.listen.unwrap_or_else(|| {
        SocketAddr::new(
            file.address.unwrap_or(default.ip()),
            file.port.unwrap_or(default.port()),
        )
    });
    let secs = args
        .sample_interval
        .or(file.sample_interval)
        .unwrap_or(10.0);
    let sample_interval = metricore::sampler::interval_from_secs(secs)
        .map_err(|e| format!("sample interval: {e}"))?;
    let auth = match (&args.bearer_token_file, file.auth) {
        (Some(path), _) => {
            let token = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
            Some(Auth::Bearer(token.trim().to_owned()))
        }
        (None, None) => None,
        (
            None,
            Some(FileAuth {
                bearer_token: Some(token),
                user: None,
                password: None,
            }),
        ) => Some(Auth::Bearer(token)),
        (
            None,
            Some(FileAuth {
                bearer_token: None,
                user: Some(user),
                password: Some(password),
            }),
        ) => Some(Auth::Basic { user, password }),
        (None, Some(_)) => {
            return Err(
                "[auth] takes either bearer_token, or user and password together".to_owned(),
            );
        }
    };
    let tls = match (&args.tls_cert, &args.tls_key, file.tls) {
        (Some(cert), Some(key), _) => Some(TlsOptions {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: None,
            client_cert_required: false,
        }),
        (_, _, Some(t)) => Some(TlsOptions {
            cert: t.cert,
            key: t.key,
            client_ca: t.client_ca,
            client_cert_required: t.client_cert_required,
        }),
        _ => None,
    };
    Ok(Settings {
        enabled: file.enabled.unwrap_or(true),
        listen,
        path: args
            .path
            .clone()
            .or(file.path)
            .unwrap_or_else(|| "/metrics".to_owned()),
        sample_interval,
        buckets: file.histogram_buckets.unwrap_or_else(|| {
            vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]
        }),
        cardinality_limit: args
            .cardinality_limit
            .or(file.cardinality_limit)
            .unwrap_or(10_000),
        auth,
        tls,
    })
}

/// SIGINT and SIGTERM, caught from its creation on: made before the program says it is
/// serving, so that a signal sent as soon as it does stops it cleanly rather than killing it.
struct Signals {
    runtime: tokio::runtime::Runtime,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn catch() -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot wait for signals: {e}"))?;
        #[cfg(unix)]
        let (interrupt, terminate) = {
            use tokio::signal::unix::{SignalKind, signal};
            let _context = runtime.enter();
            let catch = |kind| signal(kind).map_err(|e| format!("cannot catch signals: {e}"));
            (
                catch(SignalKind::interrupt())?,
                catch(SignalKind::terminate())?,
            )
        };
        Ok(Self {
            runtime,
            #[cfg(unix)]
            interrupt,
            #[cfg(unix)]
            terminate,
        })
    }

    /// Waits for SIGINT or SIGTERM, or for `duration` to pass; says which.
    fn wait(mut self, duration: Option<Duration>) -> &'static str {
        self.runtime.block_on(async {
            let timer = async {
                match duration {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(unix)]
            let (interrupt, terminate) = (self.interrupt.recv(), self.terminate.recv());
            #[cfg(not(unix))]
            let (interrupt, terminate) = (tokio::signal::ctrl_c(), std::future::pending::<()>());
            tokio::select! {
                () = timer => "duration reached",
                _ = interrupt => "interrupted",
                _ = terminate => "terminated",
            }
        })
    }
}

/// A synthetic service: requests on a few routes at a rate that drifts, latencies with a
/// long tail, a few errors, on a thread until `stop` is set.
fn demo(
    registry: &Registry,
    settings: &Settings,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>, String> {
    let failed = |e: metricore::Error| e.to_string();
    let requests = registry
        .counter_family(
            MetricOpts::new(
                "http_requests",
                "HTTP requests served, by method, route and status.",
            )
            .labels(["method", "route", "status"])
            .cardinality_limit(settings.cardinality_limit),
        )
        .map_err(failed)?;
    let latency = registry
        .histogram_family(
            MetricOpts::new(
                "http_request_duration_seconds",
                "Time to serve an HTTP request.",
            )
            .labels(["route"])
            .cardinality_limit(settings.cardinality_limit),
            HistogramOpts::latency().buckets(settings.buckets.clone()),
        )
        .map_err(failed)?;
    let in_flight = registry
        .gauge(MetricOpts::new(
            "http_requests_in_flight",
            "HTTP requests being served.",
        ))
        .map_err(failed)?;
    let routes: [(&str, &str, f64); 4] = [
        ("GET", "/", 4.0),
        ("GET", "/api/items", 12.0),
        ("POST", "/api/orders", 35.0),
        ("GET", "/static/{file}", 1.5),
    ];
    let start = Instant::now();
    std::thread::Builder::new()
        .name("metricore-demo".to_owned())
        .spawn(move || {
            // xorshift64*: a fixed seed keeps runs alike; quality is beside the point here.
            let mut seed = 0x9E37_79B9_7F4A_7C15u64;
            let mut random = move || {
                seed ^= seed >> 12;
                seed ^= seed << 25;
                seed ^= seed >> 27;
                (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
            };
            while !stop.load(Ordering::Relaxed) {
                let t = start.elapsed().as_secs_f64();
                // 100 to 300 requests per second over a two-minute cycle.
                let per_tick = 2.0 + (t / 120.0 * std::f64::consts::TAU).sin();
                let n = (per_tick * 10.0 * random()).round() as usize;
                in_flight.set(n as f64);
                for _ in 0..n {
                    let (method, route, median_ms) = routes[(random() * 4.0) as usize % 4];
                    // Log-normal-ish: the median times e^(normal-ish spread), and a rare slow tail.
                    let spread = (random() + random() + random() - 1.5) * 1.2;
                    let mut ms = median_ms * spread.exp();
                    if random() < 0.01 {
                        ms *= 20.0;
                    }
                    let status = if random() < 0.02 {
                        "500"
                    } else if random() < 0.03 {
                        "404"
                    } else {
                        "200"
                    };
                    if let Ok(c) = requests.with_label_values(&[method, route, status]) {
                        c.inc();
                    }
                    if let Ok(h) = latency.with_label_values(&[route]) {
                        let _ = h.record_ms(ms);
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .map_err(|e| format!("cannot start the demo thread: {e}"))
}

fn run(args: &ServeArgs) -> Result<(), String> {
    let settings = settings(args)?;
    if !settings.enabled {
        say!("metricore: disabled by the configuration file (enabled = false)");
        return Ok(());
    }
    let duration = match args.duration {
        None => None,
        Some(s) if s.is_finite() && s >= 0.0 => Some(Duration::from_secs_f64(s)),
        Some(s) => {
            return Err(format!(
                "--duration must be a number of seconds >= 0, not {s}"
            ));
        }
    };
    let signals = Signals::catch()?;
    let registry = Registry::new();
    let sampler = registry.sampler().map_err(|e| e.to_string())?;
    sampler
        .start(settings.sample_interval)
        .map_err(|e| e.to_string())?;
    let mut options = ServeOptions::new()
        .listen(settings.listen)
        .metrics_path(settings.path.clone());
    if let Some(auth) = settings.auth.clone() {
        options = options.auth(auth);
    }
    if let Some(tls) = settings.tls.clone() {
        options = options.tls(tls);
    }
    let server = serve(&registry, options).map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    let demo_thread = if args.demo {
        Some(demo(&registry, &settings, Arc::clone(&stop))?)
    } else {
        None
    };
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let addr = server.local_addr();
    say!(
        "metricore: serving {scheme}://{addr}{} and the dashboard on {scheme}://{addr}/ (Ctrl-C stops)",
        settings.path
    );
    let why = signals.wait(duration);
    // Relaxed: a flag polled by the demo loop; it is joined below.
    stop.store(true, Ordering::Relaxed);
    if let Some(t) = demo_thread {
        let _ = t.join();
    }
    server.shutdown();
    sampler.stop();
    say!("metricore: stopped ({why})");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => match run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                say!("metricore: {message}");
                ExitCode::FAILURE
            }
        },
    }
}
