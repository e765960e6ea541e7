//! Resource sampling: CPU, memory, disk, network, threads and file descriptors,
//! of this process and of the machine.
//!
//! A [`Probe`] takes one [`Sample`] at a time and turns the kernel's
//! running totals into rates and percentages over the interval since its
//! previous sample. On Linux it reads `/proc` directly (a full sample costs
//! well under a millisecond of CPU); elsewhere it goes through `sysinfo`, and
//! whatever a platform cannot give is `None`, never a made-up 0. A figure that
//! cannot be read (a missing or unreadable file) is absent from that sample
//! and counted in `metricore_sampler_errors_total{source}`.
//!
//! A [`Sampler`] is a background thread that samples at an interval (default
//! 10 s, the TypeScript era's collection interval) and a [`Collector`] of the
//! latest sample, under the Prometheus client libraries' `process_*` names and
//! `node_exporter`'s `node_*` names. [`Registry::sampler`] registers one with a
//! registry (one per registry), as any collector registers: the registry knows
//! nothing of samplers.
//!
//! ## Across `fork()`
//!
//! A forked child has only the thread that called `fork()`, so a sampler started in the
//! parent does not run in the child: [`Sampler::is_running`] says `false` there (it compares
//! the pid that started the thread with the current one), [`Sampler::stop`] does nothing but
//! forget the parent's thread, and [`Sampler::start`] starts the child's own. The child keeps
//! the parent's latest sample until then, and its scrapes publish it. The sampler's locks are
//! only taken inside fork sections (see the registry's docs), so none is held in the child.

mod families;
#[cfg(target_os = "linux")]
mod linux;
mod portable;
#[cfg(target_os = "linux")]
mod procfs;
mod sample;
#[cfg(target_os = "linux")]
mod sock_diag;
#[cfg(all(test, target_os = "linux"))]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use families::FAMILY_NAMES;
pub use sample::{
    CpuPercent, CpuSeconds, DiskRates, DiskSample, FilesystemSample, InterfaceRates,
    InterfaceSample, MemorySample, PressureSample, ProcessSample, Sample, SystemSample,
};

use crate::collect::{CollectResult, Collector, FamilySnapshot};
use crate::error::{Error, ErrorKind, Result};
use crate::fork;
use crate::registry::Registry;

/// The name a registry's sampler is registered under as a collector.
pub const COLLECTOR_NAME: &str = "resource_sampler";

/// The sampler's default interval, the TypeScript era's collection interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// The shortest interval a sampler accepts.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// The longest interval a sampler accepts.
pub const MAX_INTERVAL: Duration = Duration::from_secs(86_400);

/// Failed reads by source, since the probe was made.
#[derive(Debug, Default)]
pub(crate) struct Errors(BTreeMap<&'static str, u64>);

impl Errors {
    pub(crate) fn note(&mut self, source: &'static str) {
        *self.0.entry(source).or_default() += 1;
    }
}

enum Source {
    #[cfg(target_os = "linux")]
    Procfs(linux::Procfs),
    Portable(Box<portable::Portable>),
}

/// Takes samples and keeps what the next one needs to compute rates.
pub struct Probe {
    source: Source,
    previous: Option<(Instant, Sample)>,
    errors: Errors,
}

impl Default for Probe {
    fn default() -> Self {
        Self::new()
    }
}

impl Probe {
    /// The best source for this platform: `/proc` on Linux, `sysinfo` elsewhere.
    pub fn new() -> Self {
        #[cfg(target_os = "linux")]
        let source = Source::Procfs(linux::Procfs::new(procfs::Root::default()));
        #[cfg(not(target_os = "linux"))]
        let source = Source::Portable(Box::new(portable::Portable::new()));
        Self::with_source(source)
    }

    /// The portable `sysinfo` source, on any platform (on Linux it gives fewer figures than
    /// [`Probe::new`]; it is there to check one against the other).
    pub fn portable() -> Self {
        Self::with_source(Source::Portable(Box::new(portable::Portable::new())))
    }

    /// Reads `/proc` and `/sys` under other roots (for tests of missing or broken files).
    #[cfg(all(test, target_os = "linux"))]
    pub(crate) fn procfs_at(proc: &std::path::Path, sys: &std::path::Path) -> Self {
        Self::with_source(Source::Procfs(linux::Procfs::new(procfs::Root::at(
            proc, sys,
        ))))
    }

    fn with_source(source: Source) -> Self {
        Self {
            source,
            previous: None,
            errors: Errors::default(),
        }
    }

    /// Takes a sample; rates and percentages cover the time since the previous one.
    pub fn sample(&mut self) -> Sample {
        let now = Instant::now();
        let mut sample = match &mut self.source {
            #[cfg(target_os = "linux")]
            Source::Procfs(p) => p.sample(&mut self.errors),
            Source::Portable(p) => p.sample(&mut self.errors),
        };
        if let Some((then, previous)) = &self.previous {
            let secs = now.duration_since(*then).as_secs_f64();
            if secs > 0.0 {
                add_rates(&mut sample, previous, secs);
            }
        }
        self.previous = Some((now, sample.clone()));
        sample
    }

    /// Failed reads by source since the probe was made.
    pub fn errors(&self) -> &BTreeMap<&'static str, u64> {
        &self.errors.0
    }
}

/// Fills in what needs two samples: CPU percentages, disk and network rates.
fn add_rates(now: &mut Sample, before: &Sample, secs: f64) {
    now.interval_seconds = Some(secs);
    if let (Some(a), Some(b)) = (now.process.cpu_seconds, before.process.cpu_seconds) {
        // The kernel counts CPU time in clock ticks (10 ms), so over a short interval one
        // tick can read as several cores; no process uses more cores than there are.
        let cores = now
            .system
            .cpu_seconds
            .len()
            .max(std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
        now.process.cpu_percent = Some(((a - b) / secs * 100.0).clamp(0.0, 100.0 * cores as f64));
    }
    now.system.cpu_percent = cpu_percent(&now.system.cpu_seconds, &before.system.cpu_seconds);
    let rate = |a: f64, b: f64| ((a - b) / secs).max(0.0);
    let disks: HashMap<&str, &DiskSample> = before
        .system
        .disks
        .iter()
        .map(|d| (d.device.as_str(), d))
        .collect();
    for d in &mut now.system.disks {
        let Some(p) = disks.get(d.device.as_str()) else {
            continue;
        };
        d.rates = Some(DiskRates {
            read_ops_per_second: rate(d.reads_completed as f64, p.reads_completed as f64),
            write_ops_per_second: rate(d.writes_completed as f64, p.writes_completed as f64),
            read_bytes_per_second: rate(d.read_bytes as f64, p.read_bytes as f64),
            write_bytes_per_second: rate(d.written_bytes as f64, p.written_bytes as f64),
            utilisation_percent: (rate(d.io_time_seconds, p.io_time_seconds) * 100.0).min(100.0),
            queue_length: rate(d.io_time_weighted_seconds, p.io_time_weighted_seconds),
        });
    }
    let interfaces: HashMap<&str, &InterfaceSample> = before
        .system
        .network
        .iter()
        .map(|n| (n.device.as_str(), n))
        .collect();
    for n in &mut now.system.network {
        let Some(p) = interfaces.get(n.device.as_str()) else {
            continue;
        };
        let both = |a: Option<u64>, b: Option<u64>| (a.unwrap_or(0) + b.unwrap_or(0)) as f64;
        n.rates = Some(InterfaceRates {
            receive_bytes_per_second: rate(n.receive_bytes as f64, p.receive_bytes as f64),
            transmit_bytes_per_second: rate(n.transmit_bytes as f64, p.transmit_bytes as f64),
            receive_packets_per_second: rate(n.receive_packets as f64, p.receive_packets as f64),
            transmit_packets_per_second: rate(n.transmit_packets as f64, p.transmit_packets as f64),
            drops_per_second: rate(
                both(n.receive_drop, n.transmit_drop),
                both(p.receive_drop, p.transmit_drop),
            ),
            errors_per_second: rate(
                both(n.receive_errs, n.transmit_errs),
                both(p.receive_errs, p.transmit_errs),
            ),
        });
    }
}

fn seconds_by_mode(cpus: &[CpuSeconds]) -> HashMap<&str, f64> {
    let mut by_mode: HashMap<&str, f64> = HashMap::new();
    for c in cpus {
        for (mode, secs) in &c.modes {
            *by_mode.entry(mode.as_str()).or_default() += secs;
        }
    }
    by_mode
}

/// Percent of all CPUs per mode between two readings of per-CPU mode seconds.
fn cpu_percent(now: &[CpuSeconds], before: &[CpuSeconds]) -> Option<CpuPercent> {
    let (a, b) = (seconds_by_mode(now), seconds_by_mode(before));
    let delta = |mode: &str| (a.get(mode).unwrap_or(&0.0) - b.get(mode).unwrap_or(&0.0)).max(0.0);
    let all: f64 = a.keys().map(|m| delta(m)).sum();
    if all <= 0.0 {
        return None;
    }
    let pct = |secs: f64| secs / all * 100.0;
    let (idle, iowait) = (delta("idle"), delta("iowait"));
    Some(CpuPercent {
        user: pct(delta("user") + delta("nice")),
        system: pct(delta("system") + delta("irq") + delta("softirq")),
        idle: pct(idle),
        iowait: pct(iowait),
        steal: pct(delta("steal")),
        total: pct(all - idle - iowait),
    })
}

/// Checks a sampling interval given in seconds (the bindings' unit of choice).
///
/// # Errors
/// [`ErrorKind::InvalidConfig`] for NaN, 0, negative, below [`MIN_INTERVAL`] or above
/// [`MAX_INTERVAL`].
pub fn interval_from_secs(secs: f64) -> Result<Duration> {
    if !(secs.is_finite() && secs > 0.0) {
        return Err(bad_interval(&format!("{secs:?} s")));
    }
    let d = crate::clock::duration_from_secs("resource sampler", "interval", secs)
        .map_err(|_| bad_interval(&format!("{secs:?} s")))?;
    check_interval(d)?;
    Ok(d)
}

fn check_interval(d: Duration) -> Result<()> {
    if d < MIN_INTERVAL || d > MAX_INTERVAL {
        return Err(bad_interval(&format!("{d:?}")));
    }
    Ok(())
}

fn bad_interval(got: &str) -> Error {
    Error::for_metric(
        ErrorKind::InvalidConfig,
        "resource sampler",
        format!("interval must be between 100 ms and 1 day, not {got}"),
    )
}

/// A sample as published for readers.
struct Published {
    sample: Sample,
    errors: BTreeMap<&'static str, u64>,
}

/// State shared between a [`Sampler`] handle and its thread.
struct Shared {
    probe: Mutex<Probe>,
    /// The latest sample with the probe's error counts as of that sample, so that a
    /// scrape never waits for a sample in progress.
    latest: Mutex<Option<Arc<Published>>>,
    /// The pid of the process whose thread samples; 0 when stopped. A forked child sees
    /// another pid, so its sampler never looks alive without a thread.
    running_pid: AtomicU32,
    /// The sampling thread and the sender whose drop stops it; each run has its own channel,
    /// so nothing a forked child inherits from its parent's run is ever waited on.
    thread: Mutex<Option<Running>>,
    created: f64,
}

/// A background resource sampler; cheap to clone (clones share the thread).
#[derive(Clone)]
pub struct Sampler {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler")
            .field("running", &self.is_running())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Default for Sampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Sampler {
    /// A stopped sampler with the platform's best [`Probe`].
    pub fn new() -> Self {
        Self::with_probe(Probe::new())
    }

    /// A stopped sampler around `probe`.
    pub fn with_probe(probe: Probe) -> Self {
        // Its locks are only taken inside fork sections.
        fork::install();
        Self {
            shared: Arc::new(Shared {
                probe: Mutex::new(probe),
                latest: Mutex::new(None),
                running_pid: AtomicU32::new(0),
                thread: Mutex::new(None),
                created: crate::clock::unix_seconds(),
            }),
        }
    }

    /// Starts sampling every `interval` (a sample is taken at once). Restarts the thread
    /// with the new interval if it was running.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] if `interval` is below 100 ms or above a day;
    /// [`ErrorKind::InvalidConfig`] too if the OS refuses a thread.
    pub fn start(&self, interval: Duration) -> Result<()> {
        check_interval(interval)?;
        self.stop();
        let (stop, stopped) = mpsc::channel();
        let shared = Arc::clone(&self.shared);
        let handle = std::thread::Builder::new()
            .name("metricore-sampler".into())
            // Parsing /proc needs little stack; the default 2 MiB would be mostly untouched
            // virtual memory, but a small one keeps the resident cost obvious.
            .stack_size(256 * 1024)
            .spawn(move || run(&shared, interval, &stopped))
            .map_err(|e| {
                Error::for_metric(
                    ErrorKind::InvalidConfig,
                    "resource sampler",
                    format!("cannot start the sampler thread: {e}"),
                )
            })?;
        let _fork = fork::section();
        *lock(&self.shared.thread) = Some(Running { handle, stop });
        // Relaxed: the pid is a flag for `is_running`; the thread's state is behind mutexes.
        self.shared
            .running_pid
            .store(std::process::id(), Ordering::Relaxed);
        Ok(())
    }

    /// Stops the thread and waits for it to end. Does nothing if it is not running, and in
    /// a forked child (the thread belongs to the parent).
    pub fn stop(&self) {
        // Relaxed: see `start`.
        let pid = self.shared.running_pid.swap(0, Ordering::Relaxed);
        let running = {
            let _fork = fork::section();
            lock(&self.shared.thread).take()
        };
        let Some(running) = running else {
            return;
        };
        if pid != std::process::id() {
            // Started by our parent before a fork: the thread does not exist here, and its
            // channel may be mid-use by it. Touching neither is the only safe thing to do.
            std::mem::forget(running);
            return;
        }
        drop(running.stop);
        // A panic in the sampler thread has already been reported by the panic hook;
        // stopping must not propagate it.
        let _ = running.handle.join();
    }

    /// Whether a sampling thread runs in this process.
    pub fn is_running(&self) -> bool {
        // Relaxed: see `start`.
        self.shared.running_pid.load(Ordering::Relaxed) == std::process::id()
    }

    /// Takes a sample now (also published as the latest).
    pub fn sample_now(&self) -> Sample {
        self.shared.sample_and_publish().sample.clone()
    }

    /// The latest sample, if one was taken.
    pub fn latest(&self) -> Option<Sample> {
        let _fork = fork::section();
        lock(&self.shared.latest).as_ref().map(|p| p.sample.clone())
    }

    /// Failed reads by source, as of the latest sample.
    pub fn errors(&self) -> BTreeMap<&'static str, u64> {
        let _fork = fork::section();
        lock(&self.shared.latest)
            .as_ref()
            .map(|p| p.errors.clone())
            .unwrap_or_default()
    }

    /// The latest sample as metric families (none before the first sample).
    fn families(&self) -> Vec<FamilySnapshot> {
        let latest = {
            let _fork = fork::section();
            lock(&self.shared.latest).clone()
        };
        let Some(p) = latest else {
            return Vec::new();
        };
        families::families(&p.sample, &p.errors, self.shared.created)
    }
}

/// The latest sample's families; describing gives every family a sample can have, so that a
/// registry reserves their names whichever figures this platform gives.
impl Collector for Sampler {
    fn collect(&self) -> CollectResult {
        Ok(self.families())
    }

    fn describe(&self) -> CollectResult {
        Ok(FAMILY_NAMES
            .iter()
            .map(|&(name, kind)| FamilySnapshot {
                named_total: true,
                name: name.to_owned(),
                help: String::new(),
                unit: None,
                kind,
                label_names: Vec::new(),
                series: Vec::new(),
            })
            .collect())
    }
}

impl Registry {
    /// This registry's resource sampler, made (stopped) and registered as the collector
    /// [`COLLECTOR_NAME`] on the first call; its latest sample is gathered with the registry's
    /// families under the `process_*` and `node_*` names, which it reserves.
    ///
    /// # Errors
    /// [`ErrorKind::Conflict`] if a family already uses one of those names.
    pub fn sampler(&self) -> Result<Sampler> {
        self.collector_or_register(COLLECTOR_NAME, Sampler::new)
    }
}

impl Shared {
    fn sample_and_publish(&self) -> Arc<Published> {
        let _fork = fork::section();
        let published = {
            let mut probe = lock(&self.probe);
            let sample = probe.sample();
            Arc::new(Published {
                sample,
                errors: probe.errors().clone(),
            })
        };
        *lock(&self.latest) = Some(Arc::clone(&published));
        published
    }
}

/// A running sampler thread.
struct Running {
    handle: JoinHandle<()>,
    /// Dropping it ends the thread's wait at once.
    stop: mpsc::Sender<()>,
}

fn run(shared: &Shared, interval: Duration, stopped: &mpsc::Receiver<()>) {
    loop {
        shared.sample_and_publish();
        match stopped.recv_timeout(interval) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// The flat resource figures: this process's memory, CPU, threads and file descriptors, the
/// machine's memory total and the root filesystem.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ResourceMetrics {
    /// This process's resident memory.
    pub memory_used_bytes: Option<u64>,
    /// The machine's memory.
    pub memory_total_bytes: Option<u64>,
    /// This process's CPU use over the last interval, in percent of one core.
    pub cpu_usage_percent: Option<f64>,
    /// Used bytes of the filesystem mounted at `/`.
    pub disk_used_bytes: Option<u64>,
    /// Size of the filesystem mounted at `/`.
    pub disk_total_bytes: Option<u64>,
    /// This process's threads.
    pub thread_count: Option<u64>,
    /// This process's open file descriptors.
    pub fd_count: Option<u64>,
    /// When the sample was taken, in Unix seconds.
    pub timestamp: f64,
}

impl ResourceMetrics {
    /// Memory used over total (0..=1), when both are known.
    pub fn memory_utilization(&self) -> Option<f64> {
        let (used, total) = (self.memory_used_bytes?, self.memory_total_bytes?);
        (total > 0).then(|| used as f64 / total as f64)
    }

    /// Disk used over total (0..=1), when both are known.
    pub fn disk_utilization(&self) -> Option<f64> {
        let (used, total) = (self.disk_used_bytes?, self.disk_total_bytes?);
        (total > 0).then(|| used as f64 / total as f64)
    }
}

impl From<&Sample> for ResourceMetrics {
    fn from(s: &Sample) -> Self {
        let root = s.system.filesystems.iter().find(|f| f.mountpoint == "/");
        Self {
            memory_used_bytes: s.process.resident_memory_bytes,
            memory_total_bytes: s.system.memory.as_ref().map(|m| m.total_bytes),
            cpu_usage_percent: s.process.cpu_percent,
            disk_used_bytes: root.map(|f| f.used_bytes),
            disk_total_bytes: root.map(|f| f.size_bytes),
            thread_count: s.process.threads,
            fd_count: s.process.open_fds,
            timestamp: s.timestamp,
        }
    }
}

/// What [`profile_operation`] measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct OperationProfile {
    /// Wall time, in milliseconds.
    pub duration_ms: f64,
    /// CPU time in user mode (the whole process), in milliseconds.
    pub cpu_user_ms: Option<f64>,
    /// CPU time in the kernel (the whole process), in milliseconds.
    pub cpu_system_ms: Option<f64>,
    /// Change in resident memory, in bytes (negative when memory was returned).
    pub rss_delta_bytes: Option<i64>,
}

/// Runs `f` and measures its wall time, the process's CPU time and its change in
/// resident memory (the TypeScript-era `profileOperation`).
pub fn profile_operation<R>(f: impl FnOnce() -> R) -> (R, OperationProfile) {
    let (cpu0, rss0) = (cpu_times(), resident_bytes());
    let start = Instant::now();
    let result = f();
    let duration_ms = start.elapsed().as_secs_f64() * 1e3;
    let (cpu1, rss1) = (cpu_times(), resident_bytes());
    let cpu = cpu0.zip(cpu1);
    let profile = OperationProfile {
        duration_ms,
        cpu_user_ms: cpu.map(|((u0, _), (u1, _))| (u1 - u0) * 1e3),
        cpu_system_ms: cpu.map(|((_, s0), (_, s1))| (s1 - s0) * 1e3),
        rss_delta_bytes: rss0.zip(rss1).map(|(a, b)| {
            i64::try_from(b).unwrap_or(i64::MAX) - i64::try_from(a).unwrap_or(i64::MAX)
        }),
    };
    (result, profile)
}

/// The process's user and system CPU seconds.
fn cpu_times() -> Option<(f64, f64)> {
    #[cfg(unix)]
    {
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `u` is a valid, writable rusage.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &raw mut u) } != 0 {
            return None;
        }
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Some((secs(u.ru_utime), secs(u.ru_stime)))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The process's resident memory (`/proc/self/statm` on Linux).
fn resident_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let text = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = text.split_ascii_whitespace().nth(1)?.parse().ok()?;
        Some(pages * procfs::ticks_and_page_size().1)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}
