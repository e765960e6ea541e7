//! The HTTP server: a registry's metrics for Prometheus, health and readiness for an
//! orchestrator, a JSON snapshot, a WebSocket stream of changes and a live dashboard.
//!
//! ```no_run
//! use metricore::server::{serve, ServeOptions};
//! use metricore::{MetricOpts, Registry};
//!
//! let registry = Registry::new();
//! let jobs = registry.counter(MetricOpts::new("jobs", "Jobs run."))?;
//! let server = serve(&registry, ServeOptions::new().listen("127.0.0.1:9090".parse().unwrap()))?;
//! println!("dashboard on http://{}/", server.local_addr());
//! jobs.inc();
//! server.shutdown(); // or drop it
//! # Ok::<(), metricore::Error>(())
//! ```
//!
//! # Endpoints
//!
//! | path | answer |
//! |---|---|
//! | `GET /metrics` | the registry and its collectors, Prometheus text 0.0.4 or OpenMetrics 1.0.0 as `Accept` asks ([`negotiate`](crate::negotiate)), gzip when `Accept-Encoding` allows it; `?name[]=a&name[]=b` keeps only those families (a family matches its own name and its sample names: `a_total`, `a_bucket`, `a_count`, `a_sum`, `a_created`) |
//! | `GET /health` | liveness: `200 {"status":"ok",…}` while the server thread runs |
//! | `GET /ready` | readiness: every check given to [`ServeOptions::ready_check`] runs; `200` when all pass, `503` naming the first that failed |
//! | `GET /api/v1/snapshot` | JSON: every family (see [`encode_json`](crate::encode_json): HDR quantiles per histogram), the [`RegistrySummary`](crate::RegistrySummary) (latency in ms) and counter rates |
//! | `GET /live` | WebSocket: JSON frames of what changed, at `?fps=N` (1 to 60, default 10) |
//! | `GET /` | the dashboard, a static page compiled into the binary, fed by `/live` |
//!
//! Methods other than `GET` and `HEAD` get `405`, unknown paths `404`, a request with a body
//! `413`, headers past [`Limits::max_header_bytes`] `431`, a missing or wrong credential
//! `401`.
//!
//! # Threads and what a scrape costs the application
//!
//! The server runs on one thread of its own with a current-thread tokio runtime: accepting,
//! HTTP parsing, TLS and WebSocket framing never run on the application's threads. Rendering
//! (gathering the registry, encoding, compressing) runs on a small pool of blocking threads
//! ([`Limits::render_threads`]) so that one large scrape does not hold up `/health` or the
//! stream. Gathering reads the metrics' atomics and takes no lock that recording takes:
//! recording threads never wait for a scrape.
//!
//! # Safe defaults and limits
//!
//! The default address is `127.0.0.1:9090`: reachable from this machine only. Anything else
//! must be asked for. Every resource a client can make the server hold is bounded
//! ([`Limits`]): connections, header bytes, the time to send headers (slowloris), the time a
//! response may wait for a client that does not read, WebSocket clients and each one's queue
//! of frames; a client that goes past one is refused or dropped, and the others are served.
//! Credentials ([`Auth`]) and TLS ([`TlsOptions`], feature `tls`) are optional.

mod auth;
mod http;
mod io;
mod live;
#[cfg(feature = "tls")]
mod tls;

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::expose::Dialect;
use crate::registry::Registry;

/// The address the server binds unless told otherwise: loopback, the legacy port.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::LOCALHOST,
    9090,
));

/// The highest rate, in frames per second, a `/live` client may ask for.
pub const MAX_FPS: u32 = 60;

/// A readiness check: `Ok(())` when ready, `Err(reason)` otherwise.
pub type ReadyCheck = Arc<dyn Fn() -> std::result::Result<(), String> + Send + Sync>;

/// Credentials every request must carry, but those for the dashboard's static page and
/// scripts (`/`, `/assets/…`), which hold no data.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// `Authorization: Bearer <token>`, or `?access_token=<token>` (RFC 6750 §2.3) for a
    /// browser's WebSocket, which cannot set headers.
    Bearer(String),
    /// `Authorization: Basic …` with this user and password; a browser asks for them once
    /// and sends them with the page's WebSocket too.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets stay out of logs.
        match self {
            Self::Bearer(_) => f.write_str("Bearer(…)"),
            Self::Basic { user, .. } => write!(f, "Basic {{ user: {user:?}, password: … }}"),
        }
    }
}

/// TLS certificate and key files (PEM), and optionally the CAs whose client certificates
/// are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// The certificate chain, leaf first.
    pub cert: std::path::PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: std::path::PathBuf,
    /// CA certificates for client certificates; `None` asks for none.
    pub client_ca: Option<std::path::PathBuf>,
    /// With `client_ca`: refuse clients without a certificate (`true`) or accept them
    /// (`false`; a certificate they do present must still verify).
    pub client_cert_required: bool,
}

/// Bounds on what clients can make the server hold. Set the fields you need and take the
/// rest from `..Limits::default()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at once (WebSocket clients included); one more is answered `503`
    /// and closed. Default 256.
    pub max_connections: usize,
    /// Bytes of request line and headers; more gets `431`. Default 16 KiB (at least 8 KiB
    /// is always read).
    pub max_header_bytes: usize,
    /// Time a client has to send a request's headers, and to finish a TLS handshake,
    /// before the connection is closed (slowloris). Default 10 s.
    pub header_timeout: Duration,
    /// Time a response may wait for a client that does not read before the connection is
    /// closed. Default 10 s.
    pub write_timeout: Duration,
    /// WebSocket clients at once; one more is answered `503`. Default 32.
    pub max_live_clients: usize,
    /// Frames queued for one WebSocket client; a client that falls this far behind is
    /// dropped. Default 8.
    pub live_queue_frames: usize,
    /// Threads rendering scrapes and snapshots at once. Default 2.
    pub render_threads: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            max_header_bytes: 16 * 1024,
            header_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            max_live_clients: 32,
            live_queue_frames: 8,
            render_threads: 2,
        }
    }
}

/// How to serve: address, metrics path, credentials, TLS, limits, readiness checks.
#[derive(Clone)]
#[must_use = "options do nothing until passed to serve()"]
pub struct ServeOptions {
    pub(crate) listen: SocketAddr,
    pub(crate) metrics_path: String,
    pub(crate) auth: Option<Auth>,
    pub(crate) tls: Option<TlsOptions>,
    pub(crate) limits: Limits,
    pub(crate) dialect: Dialect,
    pub(crate) ready_checks: Vec<(String, ReadyCheck)>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            metrics_path: "/metrics".to_owned(),
            auth: None,
            tls: None,
            limits: Limits::default(),
            dialect: Dialect::Canonical,
            ready_checks: Vec::new(),
        }
    }
}

impl fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeOptions")
            .field("listen", &self.listen)
            .field("metrics_path", &self.metrics_path)
            .field("auth", &self.auth)
            .field("tls", &self.tls)
            .field("limits", &self.limits)
            .field("dialect", &self.dialect)
            .field(
                "ready_checks",
                &self.ready_checks.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl ServeOptions {
    /// The defaults: `127.0.0.1:9090`, `/metrics`, no credentials, no TLS, default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The address to bind; port 0 picks a free one (see [`ServerHandle::local_addr`]).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The path of the scrape endpoint (default `/metrics`); it must start with `/` and must
    /// not be one of the other endpoints' paths.
    pub fn metrics_path(mut self, path: impl Into<String>) -> Self {
        self.metrics_path = path.into();
        self
    }

    /// Credentials every request but the dashboard's static files must carry.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Serves HTTPS only, with these files.
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Resource bounds (see [`Limits`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whose spelling `/metrics` writes (default [`Dialect::Canonical`]).
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Adds a readiness check, run (on a render thread) at every `GET /ready`, in the order
    /// added; the first that fails is named in the `503` answer.
    pub fn ready_check(
        mut self,
        name: impl Into<String>,
        check: impl Fn() -> std::result::Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.ready_checks.push((name.into(), Arc::new(check)));
        self
    }

    fn validate(&self) -> Result<()> {
        let path = &self.metrics_path;
        let reserved = ["/", "/health", "/ready", "/live", "/api/v1/snapshot"];
        if !path.starts_with('/') || path.contains(['?', '#']) || reserved.contains(&path.as_str())
        {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                None,
                format!(
                    "the metrics path '{path}' must start with '/', hold no '?' or '#', and not be one of {reserved:?}"
                ),
            ));
        }
        let l = &self.limits;
        if l.max_connections == 0
            || l.max_live_clients == 0
            || l.live_queue_frames == 0
            || l.render_threads == 0
            || l.header_timeout.is_zero()
            || l.write_timeout.is_zero()
        {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                None,
                "server limits must all be above zero",
            ));
        }
        #[cfg(not(feature = "tls"))]
        if self.tls.is_some() {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                None,
                "TLS was asked for, but metricore was built without its `tls` feature",
            ));
        }
        Ok(())
    }
}

/// A running server. Dropping it stops the server as [`ServerHandle::shutdown`] does.
#[must_use = "the server stops when its handle is dropped"]
pub struct ServerHandle {
    local_addr: SocketAddr,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// The address the server is bound to (with the port it was given when asked for 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, closes every connection (WebSocket clients get a close frame) and
    /// joins the server thread. Responses being written are cut off.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The receiver is gone only when the thread has ended already.
            let _ = stop.send(true);
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread already printed its message; there is nothing
            // more to report at shutdown.
            let _ = thread.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Starts serving `registry` (and its collectors) on a thread of its own.
///
/// The address is bound before this returns, so a port in use is reported here.
///
/// # Errors
/// [`ErrorKind::Io`] naming the address when it cannot be bound (in use, not local, no
/// permission), or naming the file when a TLS file cannot be read;
/// [`ErrorKind::InvalidConfig`] for a bad metrics path, a zero limit, or TLS files that
/// hold no usable certificate or key.
pub fn serve(registry: &Registry, opts: ServeOptions) -> Result<ServerHandle> {
    opts.validate()?;
    #[cfg(feature = "tls")]
    let acceptor = opts.tls.as_ref().map(tls::acceptor).transpose()?;
    #[cfg(not(feature = "tls"))]
    let acceptor: Option<http::NoTls> = None;
    let listener = TcpListener::bind(opts.listen).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            None,
            format!("cannot listen on {}: {e}", opts.listen),
        )
    })?;
    let io_error = |e: std::io::Error| {
        Error::new(
            ErrorKind::Io,
            None,
            format!("cannot listen on {}: {e}", opts.listen),
        )
    };
    let local_addr = listener.local_addr().map_err(io_error)?;
    listener.set_nonblocking(true).map_err(io_error)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .max_blocking_threads(opts.limits.render_threads)
        .thread_name("metricore-render")
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::Io,
                None,
                format!("cannot start the server's runtime: {e}"),
            )
        })?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let state = http::State::new(registry.clone(), opts, acceptor, stop_rx);
    let thread = std::thread::Builder::new()
        .name("metricore-server".to_owned())
        .spawn(move || {
            runtime.block_on(http::run(listener, state));
            // A readiness check that never returns must not hold up the shutdown.
            runtime.shutdown_timeout(Duration::from_secs(1));
        })
        .map_err(|e| {
            Error::new(
                ErrorKind::Io,
                None,
                format!("cannot start the server thread: {e}"),
            )
        })?;
    Ok(ServerHandle {
        local_addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}
