//! metricore beside its peers, in one run: `cargo bench -p metricore`.
//!
//! Every workload runs metricore and its peers (a bare atomic, the `prometheus`
//! crate, the `hdrhistogram` crate) in the same process, through the same timing
//! loop. The run has three parts:
//!
//! 1. a memory table (live heap bytes, counted by a `#[global_allocator]`
//!    wrapper around `System` that is switched on only while it is measuring);
//! 2. criterion groups, one per workload, for the detailed statistics;
//! 3. a summary table: the median of 11 interleaved batches per contestant, timed with
//!    `Instant` around the same loops criterion times, and each bar checked.
//!
//! Two-thread workloads time both threads between one barrier and the later
//! of the two ends, and report that wall time divided by the total number of
//! operations (aggregated ns/op). A batch in which either thread ran for less
//! than 90% of that wall time (thread CPU time, and overlap of the two spans)
//! is run again, so a descheduled thread does not pass for an uncontended one.
//!
//! `cargo bench -p metricore -- --test` (and `cargo test --benches`, which
//! passes no `--bench`) runs every code path once with tiny batches: the
//! numbers it prints are not measurements and no bar is judged.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Barrier, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use criterion::Criterion;
use metricore::{Counter, Dialect, Format, Gauge, Histogram, HistogramOpts, MetricOpts, Registry};
use prometheus::Encoder as _;

// ---------------------------------------------------------------- counting allocator

/// Live heap bytes, counted only while [`TRACK`] is on (the memory table), so the
/// timed parts pay one relaxed load per allocation and nothing else.
struct Counting;

static TRACK: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed while tracking (wrapping; only differences are read).
static LIVE: AtomicUsize = AtomicUsize::new(0);

#[inline]
fn grew(bytes: usize) {
    // Relaxed: a tally read on the thread that allocates; nothing is published through it.
    if TRACK.load(Relaxed) {
        LIVE.fetch_add(bytes, Relaxed);
    }
}

#[inline]
fn shrank(bytes: usize) {
    // Relaxed: as in `grew`.
    if TRACK.load(Relaxed) {
        LIVE.fetch_sub(bytes, Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged
// and only adds bookkeeping, so `System`'s guarantees carry over.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` through this wrapper with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `dealloc`; `new_size` is checked by our caller.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            grew(new_size);
            shrank(layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Live bytes that `f` leaves behind (what it returns is kept alive until after the count).
fn live_bytes_of<T>(f: impl FnOnce() -> T) -> (usize, T) {
    TRACK.store(true, Relaxed);
    let before = LIVE.load(Relaxed);
    let kept = f();
    let after = LIVE.load(Relaxed);
    TRACK.store(false, Relaxed);
    // A span that freed more than it kept (never the case here) would wrap: report 0.
    let grown = after.wrapping_sub(before);
    (if grown > usize::MAX / 2 { 0 } else { grown }, kept)
}

// ---------------------------------------------------------------- workload data

/// Length of the value arrays that histogram workloads cycle through.
const VALUES: usize = 4096;
const MASK: usize = VALUES - 1;
/// Threads in the contended workloads (the machine this targets has two cores).
const THREADS: usize = 2;

/// splitmix64: a deterministic generator, so every run records the same values.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform float in (0, 1].
fn unit(state: &mut u64) -> f64 {
    ((splitmix(state) >> 11) + 1) as f64 / (1u64 << 53) as f64
}

/// Request latencies in microseconds: log-normal around a 5 ms median
/// (sigma 1.3 in log space), clamped to 100 µs .. 1 s.
fn latencies_us() -> &'static [u64] {
    static V: OnceLock<Vec<u64>> = OnceLock::new();
    V.get_or_init(|| {
        let mut s = 42;
        (0..VALUES)
            .map(|_| {
                let (u1, u2) = (unit(&mut s), unit(&mut s));
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                (5000f64.ln() + 1.3 * z)
                    .exp()
                    .round()
                    .clamp(100.0, 1_000_000.0) as u64
            })
            .collect()
    })
}

/// The same latencies in seconds, for `observe`-style APIs (converted up front, not timed).
fn latencies_s() -> &'static [f64] {
    static V: OnceLock<Vec<f64>> = OnceLock::new();
    V.get_or_init(|| latencies_us().iter().map(|&v| v as f64 / 1e6).collect())
}

// ---------------------------------------------------------------- timing loops

/// Runs `iters` operations and returns the time they took (for two threads: the
/// wall time divided by two, so that per-iteration time is aggregated ns/op).
type Timer = Box<dyn FnMut(u64) -> Duration>;

/// One thread: `op(i)` for `i in 0..iters`, monomorphised so the loop has no indirect call.
fn single(mut op: impl FnMut(usize) + 'static) -> Timer {
    Box::new(move |iters| {
        let start = Instant::now();
        for i in 0..iters {
            op(i as usize);
        }
        start.elapsed()
    })
}

/// CPU time the calling thread has used, where the OS reports it (Linux).
fn thread_cpu_time() -> Option<Duration> {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec and the clock id is one Linux supports.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) } == 0 {
            return Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
        }
    }
    None
}

/// Two-thread batches run, and those re-run because the threads did not run side by side.
static BATCHES: AtomicU64 = AtomicU64::new(0);
static RERUNS: AtomicU64 = AtomicU64::new(0);

/// A contended batch is kept only if both threads ran for at least this share of the
/// batch's wall time (CPU time, where available) and their spans overlapped by as much;
/// otherwise one thread was descheduled and the batch measured less contention than asked.
const MIN_CONCURRENCY: f64 = 0.9;
/// Batches shorter than this are kept regardless (thread start-up dominates them).
const CHECK_FROM: Duration = Duration::from_millis(2);

/// [`THREADS`] threads on shared state: thread `t` builds its own `op` with `make(t)`,
/// all wait on a barrier, then each runs `iters` operations. Returns (last end - first
/// start) / THREADS, i.e. aggregated time per operation times `iters`. A batch in which
/// the threads did not run concurrently is run again (up to 5 times).
fn contended<M, W>(make: M) -> Timer
where
    M: Fn(usize) -> W + Sync + 'static,
    W: FnMut(usize),
{
    Box::new(move |iters| {
        let mut attempt = 0;
        loop {
            let (wall, concurrency) = contended_batch(iters, &make);
            // Relaxed: statistics for the report, read after the threads are joined.
            BATCHES.fetch_add(1, Relaxed);
            attempt += 1;
            if concurrency >= MIN_CONCURRENCY || wall < CHECK_FROM || attempt == 5 {
                return wall / THREADS as u32;
            }
            RERUNS.fetch_add(1, Relaxed);
        }
    })
}

/// One contended batch: its wall time and the smallest share of it that any thread
/// spent running (CPU time over wall time, and overlap of the spans over wall time).
fn contended_batch<M, W>(iters: u64, make: &M) -> (Duration, f64)
where
    M: Fn(usize) -> W + Sync,
    W: FnMut(usize),
{
    let barrier = Barrier::new(THREADS);
    let spans: Vec<(Instant, Instant, Option<Duration>)> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    let mut op = make(t);
                    barrier.wait();
                    let cpu = thread_cpu_time();
                    let start = Instant::now();
                    for i in 0..iters {
                        op(i as usize);
                    }
                    let end = Instant::now();
                    let cpu = thread_cpu_time().zip(cpu).map(|(b, a)| b.saturating_sub(a));
                    (start, end, cpu)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread panicked"))
            .collect()
    });
    let first_start = spans.iter().map(|s| s.0).min().expect("threads ran");
    let last_start = spans.iter().map(|s| s.0).max().expect("threads ran");
    let first_end = spans.iter().map(|s| s.1).min().expect("threads ran");
    let last_end = spans.iter().map(|s| s.1).max().expect("threads ran");
    let wall = last_end - first_start;
    let share = |d: Duration| d.as_secs_f64() / wall.as_secs_f64().max(1e-9);
    let overlap = share(first_end.saturating_duration_since(last_start));
    let running = spans
        .iter()
        .filter_map(|s| s.2)
        .map(share)
        .fold(f64::INFINITY, f64::min);
    (wall, overlap.min(running))
}

/// Batches per contestant in the summary.
const ROUNDS: usize = 11;

/// Median ns/op of each contestant. Each contestant's batch size is first doubled until a
/// batch takes about 20 ms; then [`ROUNDS`] rounds run every contestant once, in turn, so
/// that a noisy neighbour slows all contestants of a workload alike rather than one of them.
/// Quick mode times one ~1 ms batch each.
fn median_ns(contestants: &mut [Contestant], quick: bool) -> Vec<f64> {
    let target = if quick {
        Duration::from_millis(1)
    } else {
        Duration::from_millis(20)
    };
    let mut sizes = Vec::with_capacity(contestants.len());
    let mut samples: Vec<Vec<f64>> = Vec::with_capacity(contestants.len());
    for c in contestants.iter_mut() {
        let mut n = 1u64;
        let mut t = (c.timer)(n);
        while t < target && n < 1 << 32 {
            n *= 2;
            t = (c.timer)(n);
        }
        sizes.push(n);
        samples.push(vec![t.as_nanos() as f64 / n as f64]);
    }
    if !quick {
        for v in &mut samples {
            v.clear();
        }
        for _ in 0..ROUNDS {
            for ((c, &n), v) in contestants.iter_mut().zip(&sizes).zip(&mut samples) {
                v.push((c.timer)(n).as_nanos() as f64 / n as f64);
            }
        }
    }
    samples
        .into_iter()
        .map(|mut v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
        .collect()
}

// ---------------------------------------------------------------- workloads

/// A pass/fail bar on one summary row.
#[derive(Clone, Copy)]
enum Bar {
    /// ours / peer must be at most this.
    Ratio(f64),
    /// ours must take at most this many ns per operation.
    Ns(f64),
}

impl Bar {
    fn passes(self, ours: f64, peer: f64) -> bool {
        match self {
            Self::Ratio(r) => ours <= r * peer,
            Self::Ns(ns) => ours <= ns,
        }
    }

    fn describe(self) -> String {
        match self {
            Self::Ratio(r) => format!("<= {r}x"),
            Self::Ns(ns) => format!("<= {}", human_ns(ns)),
        }
    }
}

struct Contestant {
    /// Criterion's function id.
    id: &'static str,
    /// The name in the summary.
    name: &'static str,
    timer: Timer,
}

/// A summary row: contestant indices (ours, peer) and the bar, if any.
type Row = (usize, usize, Option<Bar>);

struct Workload {
    /// Criterion's group name.
    group: &'static str,
    /// The name in the summary.
    title: &'static str,
    contestants: Vec<Contestant>,
    rows: Vec<Row>,
    /// Notes printed under the summary (e.g. output sizes).
    notes: Vec<String>,
}

fn c(id: &'static str, name: &'static str, timer: Timer) -> Contestant {
    Contestant { id, name, timer }
}

fn counter_1t() -> Workload {
    let ours = Counter::new();
    let bare = AtomicU64::new(0);
    let prom = prometheus::IntCounter::new("c", "h").expect("valid");
    Workload {
        group: "1_counter_inc_1t",
        title: "counter inc, 1 thread",
        contestants: vec![
            c(
                "metricore",
                "metricore Counter::inc",
                single(move |_| ours.inc()),
            ),
            // Relaxed: the same ordering a counter needs; nothing is published.
            c(
                "atomic_u64",
                "AtomicU64::fetch_add",
                single(move |_| {
                    bare.fetch_add(1, Relaxed);
                }),
            ),
            c(
                "prometheus",
                "prometheus IntCounter",
                single(move |_| prom.inc()),
            ),
        ],
        rows: vec![(0, 1, Some(Bar::Ratio(1.2))), (0, 2, None)],
        notes: vec![],
    }
}

fn counter_2t() -> Workload {
    let ours = Counter::new();
    let bare = std::sync::Arc::new(AtomicU64::new(0));
    let prom = prometheus::IntCounter::new("c", "h").expect("valid");
    Workload {
        group: "2_counter_inc_2t",
        title: "counter inc, 2 threads, 1 counter",
        contestants: vec![
            c(
                "metricore",
                "metricore Counter::inc",
                contended(move |_| {
                    let ours = ours.clone();
                    move |_| ours.inc()
                }),
            ),
            c(
                "atomic_u64",
                "shared AtomicU64",
                contended(move |_| {
                    let bare = std::sync::Arc::clone(&bare);
                    // Relaxed: as in the one-thread workload.
                    move |_| {
                        bare.fetch_add(1, Relaxed);
                    }
                }),
            ),
            c(
                "prometheus",
                "prometheus IntCounter",
                contended(move |_| {
                    let prom = prom.clone();
                    move |_| prom.inc()
                }),
            ),
        ],
        rows: vec![(0, 1, Some(Bar::Ratio(0.3))), (0, 2, None)],
        notes: vec![],
    }
}

fn gauge_set() -> Workload {
    let ours = Gauge::new();
    let bare = AtomicU64::new(0);
    let prom = prometheus::Gauge::new("g", "h").expect("valid");
    Workload {
        group: "3_gauge_set",
        title: "gauge set, 1 thread",
        contestants: vec![
            c(
                "metricore",
                "metricore Gauge::set",
                single(move |i| ours.set(i as f64)),
            ),
            c(
                "prometheus",
                "prometheus Gauge::set",
                single(move |i| prom.set(i as f64)),
            ),
            // Relaxed: a gauge publishes nothing else.
            c(
                "atomic_u64",
                "AtomicU64::store",
                single(move |i| bare.store((i as f64).to_bits(), Relaxed)),
            ),
        ],
        rows: vec![(0, 1, None), (0, 2, None)],
        notes: vec![],
    }
}

/// A latency histogram (1 µs .. 60 s, integers), with or without exact buckets.
fn ours_histogram(exact: bool) -> Histogram {
    let opts = HistogramOpts::latency();
    let opts = if exact {
        opts.buckets(prometheus::DEFAULT_BUCKETS.to_vec())
    } else {
        opts
    };
    Histogram::new("h", &opts).expect("valid options")
}

/// The default histogram: any magnitude and sign, floats.
fn ours_any_histogram() -> Histogram {
    Histogram::new("h", &HistogramOpts::new()).expect("valid options")
}

fn prom_histogram() -> prometheus::Histogram {
    prometheus::Histogram::with_opts(prometheus::HistogramOpts::new("h", "h"))
        .expect("valid options")
}

fn hdr_histogram() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

fn histogram_1t() -> Workload {
    let (us, s) = (latencies_us(), latencies_s());
    let ours = ours_histogram(false);
    let exact = ours_histogram(true);
    let observe = ours_histogram(false);
    let any_observe = ours_any_histogram();
    let any_record = ours_any_histogram();
    let prom = prom_histogram();
    let locked = Mutex::new(hdr_histogram());
    let mut owned = hdr_histogram();
    // Leaked so it outlives its recorder for the whole run (a few hundred KB, once).
    let sync: &'static _ = Box::leak(Box::new(hdr_histogram().into_sync()));
    let mut recorder = sync.recorder();
    Workload {
        group: "4_histogram_record_1t",
        title: "histogram record, 1 thread",
        contestants: vec![
            c(
                "metricore_record",
                "metricore record(u64)",
                single(move |i| ours.record(us[i & MASK])),
            ),
            c(
                "metricore_exact",
                "metricore record, exact bkts",
                single(move |i| exact.record(us[i & MASK])),
            ),
            c(
                "metricore_observe",
                "metricore observe(f64 s)",
                single(move |i| observe.observe(s[i & MASK]).expect("finite, non-negative")),
            ),
            c(
                "prometheus",
                "prometheus observe",
                single(move |i| prom.observe(s[i & MASK])),
            ),
            c(
                "hdr_mutex",
                "hdrhistogram in Mutex",
                single(move |i| {
                    locked
                        .lock()
                        .expect("not poisoned")
                        .saturating_record(us[i & MASK]);
                }),
            ),
            c(
                "hdr_recorder",
                "hdrhistogram Recorder",
                single(move |i| recorder.saturating_record(us[i & MASK])),
            ),
            c(
                "hdr_owned",
                "hdrhistogram record (owned)",
                single(move |i| owned.saturating_record(us[i & MASK])),
            ),
            c(
                "metricore_any_observe",
                "metricore any-mag observe",
                single(move |i| any_observe.observe(s[i & MASK]).expect("never fails")),
            ),
            c(
                "metricore_any_record",
                "metricore any-mag record",
                single(move |i| any_record.record(us[i & MASK])),
            ),
        ],
        rows: vec![
            (0, 3, Some(Bar::Ns(6.0))),
            (1, 3, Some(Bar::Ns(6.0))),
            (2, 3, Some(Bar::Ns(6.0))),
            (0, 4, None),
            (0, 5, None),
            (0, 6, Some(Bar::Ratio(1.5))),
            (7, 3, None),
            (8, 6, None),
            (7, 6, None),
        ],
        notes: vec![],
    }
}

/// The record paths that read the window's clock: a windowed histogram, a meter, a
/// throughput meter, beside the same histogram without a window and a bare counter.
fn windowed_1t() -> Workload {
    let us = latencies_us();
    let plain = ours_histogram(false);
    let windowed = Histogram::new(
        "h",
        &HistogramOpts::new().window(metricore::WindowOpts::DEFAULT),
    )
    .expect("valid options");
    let meter = metricore::Meter::new();
    let throughput = metricore::Throughput::new();
    let counter = Counter::new();
    Workload {
        group: "8_window_record_1t",
        title: "windowed record, 1 thread",
        contestants: vec![
            c(
                "histogram_window",
                "metricore record, 60 s window",
                single(move |i| windowed.record(us[i & MASK])),
            ),
            c(
                "histogram_plain",
                "metricore record, no window",
                single(move |i| plain.record(us[i & MASK])),
            ),
            c(
                "meter_mark",
                "metricore Meter::mark",
                single(move |_| meter.mark()),
            ),
            c(
                "throughput_record",
                "metricore Throughput::record",
                single(move |i| throughput.record(1, i as u64 & 255, 512)),
            ),
            c(
                "counter_inc",
                "metricore Counter::inc",
                single(move |_| counter.inc()),
            ),
        ],
        rows: vec![(0, 1, None), (2, 4, None), (3, 4, None)],
        notes: vec![],
    }
}

fn histogram_2t() -> Workload {
    let (us, s) = (latencies_us(), latencies_s());
    let ours = ours_histogram(false);
    let exact = ours_histogram(true);
    let observe = ours_histogram(false);
    let any_observe = ours_any_histogram();
    let prom = prom_histogram();
    let locked = std::sync::Arc::new(Mutex::new(hdr_histogram()));
    let sync: &'static _ = Box::leak(Box::new(hdr_histogram().into_sync()));
    // One recorder per thread, each behind an (uncontended) mutex so the closure is Sync.
    let recorders: &'static [_] =
        Box::leak((0..THREADS).map(|_| Mutex::new(sync.recorder())).collect());
    // Each thread starts at a different point of the value array.
    let at = |t: usize, i: usize| (i + t * (VALUES / THREADS)) & MASK;
    Workload {
        group: "5_histogram_record_2t",
        title: "histogram record, 2 threads, 1 hist",
        contestants: vec![
            c(
                "metricore_record",
                "metricore record(u64)",
                contended(move |t| {
                    let h = ours.clone();
                    move |i| h.record(us[at(t, i)])
                }),
            ),
            c(
                "metricore_exact",
                "metricore record, exact bkts",
                contended(move |t| {
                    let h = exact.clone();
                    move |i| h.record(us[at(t, i)])
                }),
            ),
            c(
                "metricore_observe",
                "metricore observe(f64 s)",
                contended(move |t| {
                    let h = observe.clone();
                    move |i| h.observe(s[at(t, i)]).expect("finite, non-negative")
                }),
            ),
            c(
                "prometheus",
                "prometheus observe",
                contended(move |t| {
                    let h = prom.clone();
                    move |i| h.observe(s[at(t, i)])
                }),
            ),
            c(
                "hdr_mutex",
                "hdrhistogram in Mutex",
                contended(move |t| {
                    let h = std::sync::Arc::clone(&locked);
                    move |i| {
                        h.lock()
                            .expect("not poisoned")
                            .saturating_record(us[at(t, i)]);
                    }
                }),
            ),
            c(
                "hdr_recorder",
                "hdrhistogram Recorder",
                contended(move |t| {
                    let mut r = recorders[t].lock().expect("not poisoned");
                    move |i| r.saturating_record(us[at(t, i)])
                }),
            ),
            c(
                "metricore_any_observe",
                "metricore any-mag observe",
                contended(move |t| {
                    let h = any_observe.clone();
                    move |i| h.observe(s[at(t, i)]).expect("never fails")
                }),
            ),
        ],
        rows: vec![
            (0, 3, Some(Bar::Ratio(0.1))),
            (1, 3, Some(Bar::Ns(8.0))),
            (2, 3, Some(Bar::Ns(8.0))),
            (0, 4, None),
            (0, 5, None),
            (6, 3, None),
        ],
        notes: vec![],
    }
}

const LOOKUP: [&str; 2] = ["GET", "/api/users/42"];

fn labelled_lookup() -> Workload {
    let registry = Registry::new();
    let ours = registry
        .counter_family(MetricOpts::new("http_requests", "Requests.").labels(["method", "path"]))
        .expect("valid family");
    let prom = prometheus::IntCounterVec::new(
        prometheus::Opts::new("http_requests", "Requests."),
        &["method", "path"],
    )
    .expect("valid family");
    // 1,000 existing series in each, the looked-up one among them.
    for i in 0..1000 {
        let path = format!("/api/users/{i}");
        ours.with_label_values(&["GET", path.as_str()])
            .expect("valid labels")
            .inc();
        prom.with_label_values(&["GET", path.as_str()]).inc();
    }
    let ours_handle = ours.with_label_values(&LOOKUP).expect("valid labels");
    let prom_handle = prom.with_label_values(&LOOKUP);
    Workload {
        group: "6_labelled_lookup",
        title: "labelled counter (1k series)",
        contestants: vec![
            c(
                "metricore_cached",
                "metricore cached handle",
                single(move |_| ours_handle.inc()),
            ),
            c(
                "metricore_uncached",
                "metricore with_label_values",
                single(move |_| ours.with_label_values(&LOOKUP).expect("valid labels").inc()),
            ),
            c(
                "prometheus_cached",
                "prometheus cached handle",
                single(move |_| prom_handle.inc()),
            ),
            c(
                "prometheus_uncached",
                "prometheus with_label_values",
                single(move |_| prom.with_label_values(&LOOKUP).inc()),
            ),
        ],
        rows: vec![(0, 2, None), (1, 3, None)],
        notes: vec![],
    }
}

fn prom_text(registry: &prometheus::Registry) -> Vec<u8> {
    let mut buf = Vec::new();
    prometheus::TextEncoder::new()
        .encode(&registry.gather(), &mut buf)
        .expect("encodes");
    buf
}

#[allow(clippy::too_many_lines)] // one workload: both peers' registries, filled alike, and every contestant
fn render() -> Workload {
    const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
    // 10k counter series: one family, two labels.
    let ours_c = Registry::new();
    let fam = ours_c
        .counter_family(MetricOpts::new("http_requests", "Requests.").labels(["method", "path"]))
        .expect("valid family");
    let prom_c = prometheus::Registry::new();
    let prom_family = prometheus::IntCounterVec::new(
        prometheus::Opts::new("http_requests_total", "Requests."),
        &["method", "path"],
    )
    .expect("valid family");
    prom_c
        .register(Box::new(prom_family.clone()))
        .expect("registers");
    for i in 0..10_000u64 {
        let labels = [METHODS[i as usize % 4], &format!("/api/v1/items/{i}")];
        fam.with_label_values(&labels)
            .expect("valid labels")
            .inc_by(i);
        prom_family.with_label_values(&labels).inc_by(i);
    }
    // 100 histograms with 1,000 values each: one family, one label.
    let ours_h = Registry::new();
    let hfam = ours_h
        .histogram_family(
            MetricOpts::new("latency_seconds", "Latency.").labels(["route"]),
            HistogramOpts::new(),
        )
        .expect("valid family");
    let prom_h = prometheus::Registry::new();
    let prom_hists = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("latency_seconds", "Latency."),
        &["route"],
    )
    .expect("valid family");
    prom_h
        .register(Box::new(prom_hists.clone()))
        .expect("registers");
    for r in 0..100 {
        let route = format!("/route/{r}");
        let h = hfam
            .with_label_values(&[route.as_str()])
            .expect("valid labels");
        let ph = prom_hists.with_label_values(&[route.as_str()]);
        for i in 0..1000 {
            let k = (r * 1000 + i) & MASK;
            h.record(latencies_us()[k]);
            ph.observe(latencies_s()[k]);
        }
    }
    let size = |what: &str, ours: usize, prom: usize| {
        let stub = if ours == 0 {
            " (ours is empty: encode() still a stub, so ours times gather() only)"
        } else {
            ""
        };
        format!("render {what}: output ours {ours} B, prometheus {prom} B{stub}")
    };
    let notes = vec![
        size(
            "10k counters",
            ours_c.render_text().len(),
            prom_text(&prom_c).len(),
        ),
        size(
            "100 histograms",
            ours_h.render_text().len(),
            prom_text(&prom_h).len(),
        ),
    ];
    let dialects = dialect_contestants(&ours_c);
    Workload {
        group: "7_render_text",
        title: "render text",
        contestants: vec![
            c(
                "metricore_10k_counters",
                "metricore 10k counters",
                single(move |_| drop(black_box(ours_c.render_text()))),
            ),
            c(
                "prometheus_10k_counters",
                "prometheus 10k counters",
                single(move |_| drop(black_box(prom_text(&prom_c)))),
            ),
            c(
                "metricore_100_histograms",
                "metricore 100 histograms",
                single(move |_| drop(black_box(ours_h.render_text()))),
            ),
            c(
                "prometheus_100_histograms",
                "prometheus 100 histograms",
                single(move |_| drop(black_box(prom_text(&prom_h)))),
            ),
        ]
        .into_iter()
        .chain(dialects)
        .collect(),
        rows: vec![
            (0, 1, Some(Bar::Ratio(0.2))),
            (2, 3, None),
            (4, 1, Some(Bar::Ratio(0.2))),
            (5, 1, Some(Bar::Ratio(0.2))),
        ],
        notes,
    }
}

/// Renders of `ours` in the peers' dialects (contestants 4 and 5 of the render workload).
fn dialect_contestants(ours: &Registry) -> Vec<Contestant> {
    let (ours_py, ours_js) = (ours.clone(), ours.clone());
    vec![
        c(
            "metricore_10k_counters_prometheus_client",
            "metricore 10k counters, prometheus_client dialect (_created included)",
            single(move |_| {
                let dialect = Dialect::PrometheusClient { created: true };
                drop(black_box(ours_py.render_with(Format::Text, dialect)));
            }),
        ),
        c(
            "metricore_10k_counters_prom_client",
            "metricore 10k counters, prom-client dialect",
            single(move |_| {
                drop(black_box(
                    ours_js.render_with(Format::Text, Dialect::PromClient),
                ));
            }),
        ),
    ]
}

// ---------------------------------------------------------------- memory

struct MemRow {
    what: &'static str,
    ours: usize,
    peer: &'static str,
    peer_bytes: usize,
    bar: Option<usize>,
}

const SERIES: usize = 10_000;
const HIST_RECORDS: usize = 100_000;

/// 1 ms .. 100 ms, log-spaced, in microseconds.
fn two_decades_us() -> impl Iterator<Item = u64> {
    (0..HIST_RECORDS)
        .map(|i| (1000.0 * 100f64.powf(i as f64 / (HIST_RECORDS - 1) as f64)).round() as u64)
}

/// Bytes held by any-magnitude histograms that saw two decades (1 ms .. 100 ms in seconds)
/// and every magnitude from 1e-9 to 1e15 (log-spaced), with the histograms.
fn any_magnitude_memory() -> ((usize, Histogram), (usize, Histogram)) {
    let two_decades = live_bytes_of(|| {
        let h = ours_any_histogram();
        two_decades_us().for_each(|v| h.observe(v as f64 / 1e6).expect("never fails"));
        h
    });
    let wide = live_bytes_of(|| {
        let h = ours_any_histogram();
        (0..HIST_RECORDS * 4).for_each(|i| {
            let x = 1e-9 * 1e24f64.powf(i as f64 / (HIST_RECORDS * 4 - 1) as f64);
            h.observe(x).expect("never fails");
        });
        h
    });
    (two_decades, wide)
}

fn memory() -> (Vec<MemRow>, Vec<String>) {
    let paths: Vec<String> = (0..SERIES).map(|i| format!("/api/users/{i}")).collect();
    // Families are built outside the counted span: only the series count.
    let registry = Registry::new();
    let fam = registry
        .counter_family(MetricOpts::new("http_requests", "Requests.").labels(["method", "path"]))
        .expect("valid family");
    let (ours_series, ()) = live_bytes_of(|| {
        for p in &paths {
            drop(
                fam.with_label_values(&["GET", p.as_str()])
                    .expect("valid labels"),
            );
        }
    });
    let prom_family = prometheus::IntCounterVec::new(
        prometheus::Opts::new("http_requests", "Requests."),
        &["method", "path"],
    )
    .expect("valid family");
    let (prom_series, ()) = live_bytes_of(|| {
        for p in &paths {
            drop(prom_family.with_label_values(&["GET", p.as_str()]));
        }
    });

    let (ours_hist, h) = live_bytes_of(|| {
        let h = ours_histogram(false);
        two_decades_us().for_each(|v| h.record(v));
        h
    });
    let ((any_hist, any), (any_wide, wide)) = any_magnitude_memory();
    let (hdr_hist, hdr) = live_bytes_of(|| {
        let mut h = hdr_histogram();
        two_decades_us().for_each(|v| h.saturating_record(v));
        h
    });
    let (prom_hist, ph) = live_bytes_of(|| {
        let h = prom_histogram();
        two_decades_us().for_each(|v| h.observe(v as f64 / 1e6));
        h
    });
    let label_bytes: usize = paths.iter().map(|p| "GET".len() + p.len()).sum::<usize>() / SERIES;
    let notes = vec![
        format!(
            "memory: per-series figures include the label values themselves ({label_bytes} B of text per series here) \
             and the map's spare capacity; {SERIES} series, one family, labels [method, path]"
        ),
        format!(
            "memory: ours Histogram::heap_bytes() = {} B (library estimate) vs {ours_hist} B counted; counts: ours {}, hdr {}, prometheus {}",
            h.heap_bytes(),
            h.count(),
            hdr.len(),
            ph.get_sample_count()
        ),
        "memory: prometheus Histogram keeps only its 11 fixed buckets (no quantiles), so its size is not like-for-like".to_owned(),
        format!(
            "memory: any-magnitude heap_bytes(): 2 decades {} B, 1e-9..1e15 {} B",
            any.heap_bytes(),
            wide.heap_bytes()
        ),
    ];
    let rows = vec![
        MemRow {
            what: "labelled counter series",
            ours: ours_series / SERIES,
            peer: "prometheus IntCounterVec",
            peer_bytes: prom_series / SERIES,
            bar: Some(128),
        },
        MemRow {
            what: "latency hist, 2 decades",
            ours: ours_hist,
            peer: "hdrhistogram (1..60e6, 3)",
            peer_bytes: hdr_hist,
            bar: Some(32 * 1024),
        },
        MemRow {
            what: "latency hist, 2 decades",
            ours: ours_hist,
            peer: "prometheus Histogram",
            peer_bytes: prom_hist,
            bar: None,
        },
        MemRow {
            what: "any-mag hist, 2 decades",
            ours: any_hist,
            peer: "hdrhistogram (1..60e6, 3)",
            peer_bytes: hdr_hist,
            bar: Some(32 * 1024),
        },
        MemRow {
            what: "any-mag hist, 1e-9..1e15",
            ours: any_wide,
            peer: "hdrhistogram (1..60e6, 3)",
            peer_bytes: hdr_hist,
            bar: Some(256 * 1024),
        },
    ];
    (rows, notes)
}

// ---------------------------------------------------------------- report

fn human_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.2} ns")
    }
}

fn memory_table(rows: &[MemRow], notes: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<26} {:>10}  {:<26} {:>10} {:>8}  {:<10} verdict",
        "memory", "ours B", "peer", "peer B", "ratio", "bar"
    );
    for r in rows {
        let ratio = r.ours as f64 / r.peer_bytes.max(1) as f64;
        let (bar, verdict) = match r.bar {
            Some(b) => (
                format!("<= {b} B"),
                if r.ours <= b { "PASS" } else { "MISS" },
            ),
            None => ("-".to_owned(), "-"),
        };
        let _ = writeln!(
            out,
            "{:<26} {:>10}  {:<26} {:>10} {:>7.2}x  {bar:<10} {verdict}",
            r.what, r.ours, r.peer, r.peer_bytes, ratio
        );
    }
    for n in notes {
        let _ = writeln!(out, "  note: {n}");
    }
    out
}

fn summary_table(workloads: &mut [Workload], quick: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<36} {:<30} {:>10}  {:<30} {:>10} {:>8}  {:<10} verdict",
        "workload", "ours", "ours/op", "peer", "peer/op", "ratio", "bar"
    );
    for w in workloads {
        let ns = median_ns(&mut w.contestants, quick);
        for &(o, p, bar) in &w.rows {
            let (ours, peer) = (ns[o], ns[p]);
            let (bar_text, verdict) = match bar {
                None => ("-".to_owned(), "-"),
                Some(_) if quick => ("(--test)".to_owned(), "n/a"),
                Some(b) => (
                    b.describe(),
                    if b.passes(ours, peer) { "PASS" } else { "MISS" },
                ),
            };
            let _ = writeln!(
                out,
                "{:<36} {:<30} {:>10}  {:<30} {:>10} {:>7.2}x  {bar_text:<10} {verdict}",
                w.title,
                w.contestants[o].name,
                human_ns(ours),
                w.contestants[p].name,
                human_ns(peer),
                ours / peer
            );
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    // Criterion's rule: `--test`, or no `--bench` (as under `cargo test --benches`), means test mode.
    let quick = has("--test") || !has("--bench");
    let listing = has("--list");

    let mut workloads = vec![
        counter_1t(),
        counter_2t(),
        gauge_set(),
        histogram_1t(),
        histogram_2t(),
        windowed_1t(),
        labelled_lookup(),
        render(),
    ];
    // METRICORE_BENCH_ONLY=4_,5_ keeps the workloads whose group name contains one of the
    // comma-separated parts (criterion's own filter selects only its groups, not the summary).
    if let Ok(only) = std::env::var("METRICORE_BENCH_ONLY") {
        workloads.retain(|w| only.split(',').any(|part| w.group.contains(part)));
    }
    if listing {
        let mut c = Criterion::default().configure_from_args();
        run_criterion(&mut c, &mut workloads);
        return;
    }

    let (mem_rows, mem_notes) = memory();
    let mem = memory_table(&mem_rows, &mem_notes);
    println!("\n{mem}");

    let measure = if quick {
        Duration::from_millis(100)
    } else {
        Duration::from_millis(2500)
    };
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(measure)
        .configure_from_args();
    run_criterion(&mut c, &mut workloads);
    c.final_summary();

    let summary = summary_table(&mut workloads, quick);
    let mode = if quick {
        "QUICK (--test): one ~1 ms batch per contestant; not a measurement, bars not judged"
    } else {
        "median of 11 interleaved batches of ~20 ms each"
    };
    let cpus = thread::available_parallelism().map_or(0, std::num::NonZero::get);
    println!(
        "\n==== metricore vs peers: {mode}; {cpus} CPUs; two-thread rows are aggregated (wall / total ops)"
    );
    println!("{summary}");
    // Relaxed: read after every batch's threads were joined.
    let (batches, reruns) = (BATCHES.load(Relaxed), RERUNS.load(Relaxed));
    println!(
        "  note: two-thread batches: {batches} run, {reruns} re-run because a thread ran < {:.0}% of the batch",
        MIN_CONCURRENCY * 100.0
    );
    for n in workloads.iter().flat_map(|w| &w.notes) {
        println!("  note: {n}");
    }
    println!("\n{mem}");
}

fn run_criterion(c: &mut Criterion, workloads: &mut [Workload]) {
    for w in workloads {
        let mut g = c.benchmark_group(w.group);
        for con in &mut w.contestants {
            let timer = &mut con.timer;
            g.bench_function(con.id, |b| b.iter_custom(&mut *timer));
        }
        g.finish();
    }
}
