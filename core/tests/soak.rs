//! A day at a busy service, accelerated: the operations, series creations and removals,
//! renders and sampler ticks of 24 hours at the rates below, run as fast as the machine goes,
//! with the process's resident memory sampled throughout. After a warm-up (the first fifth),
//! resident memory may grow by at most 1 MB.
//!
//! The day modelled (`FULL_DAY`): 2 000 requests per second, each one a labelled counter
//! increment, a latency observation, a meter mark, a throughput record and a gauge update; a
//! render of the registry every 15 s; a sampler tick every 10 s; label churn of one new
//! series per second, each removed ten minutes later (600 live at a time).
//!
//! CI runs a scaled day (`METRICORE_SOAK_SCALE`, default 0.1: every count divided by 10,
//! the churn's live window too); `METRICORE_SOAK_FULL=1` runs the full count. Ignored by
//! default: `cargo test --release -p metricore --test soak -- --ignored --nocapture`
//! (scripts/test.sh step `soak`).

use std::time::Instant;

use metricore::{HistogramOpts, Meter, MetricOpts, Registry, Throughput};

struct Day {
    requests: u64,
    renders: u64,
    sampler_ticks: u64,
    series_created: u64,
    /// How many churned series are alive at once (created this many seconds before removal).
    live_churn: u64,
}

const FULL_DAY: Day = Day {
    requests: 2_000 * 86_400,
    renders: 86_400 / 15,
    sampler_ticks: 86_400 / 10,
    series_created: 86_400,
    live_churn: 600,
};

fn resident_bytes() -> u64 {
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

#[test]
#[ignore = "a soak run: scripts/test.sh soak"]
#[allow(
    clippy::too_many_lines,
    reason = "one day's loop, read top to bottom; splitting it would hide the schedule"
)]
fn a_day_of_traffic_holds_memory_flat() {
    let scale: f64 = if std::env::var("METRICORE_SOAK_FULL").is_ok_and(|v| v == "1") {
        1.0
    } else {
        std::env::var("METRICORE_SOAK_SCALE")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.1)
    };
    let scaled = |n: u64| ((n as f64 * scale).round() as u64).max(1);
    let day = Day {
        requests: scaled(FULL_DAY.requests),
        renders: scaled(FULL_DAY.renders),
        sampler_ticks: scaled(FULL_DAY.sampler_ticks),
        series_created: scaled(FULL_DAY.series_created),
        live_churn: scaled(FULL_DAY.live_churn),
    };

    let r = Registry::new();
    let requests = r
        .counter_family(MetricOpts::new("http_requests", "Requests.").labels(["method", "code"]))
        .unwrap();
    let latency = r
        .histogram_family(
            MetricOpts::new("http_latency_seconds", "Latency.").labels(["method"]),
            HistogramOpts::new(),
        )
        .unwrap();
    let in_flight = r.gauge(MetricOpts::new("in_flight", "In flight.")).unwrap();
    let sessions = r
        .counter_family(MetricOpts::new("session_events", "Per session.").labels(["session"]))
        .unwrap();
    let sampler = r.sampler().unwrap();
    let meter = Meter::new();
    let throughput = Throughput::new();
    let methods = ["GET", "POST", "PUT", "DELETE"];
    let codes = ["200", "201", "404", "500"];

    let every = |total: u64| (day.requests / total).max(1);
    let (render_every, tick_every, churn_every) = (
        every(day.renders),
        every(day.sampler_ticks),
        every(day.series_created),
    );
    let warm_up_end = day.requests / 5;
    let (mut baseline, mut peak) = (0u64, 0u64);
    let (mut rendered, mut ticked, mut created, mut removed) = (0u64, 0u64, 0u64, 0u64);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let start = Instant::now();
    for i in 0..day.requests {
        // xorshift: a cheap, fixed sequence of request shapes.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let method = methods[(x & 3) as usize];
        requests
            .with_label_values(&[method, codes[(x >> 2 & 3) as usize]])
            .unwrap()
            .inc();
        latency
            .with_label_values(&[method])
            .unwrap()
            .observe((x >> 8 & 0xffff) as f64 * 1e-6)
            .unwrap();
        meter.mark();
        throughput.record(1, x >> 20 & 255, 512);
        in_flight.set((x & 63) as f64);
        if i % churn_every == 0 {
            let id = created.to_string();
            sessions.with_label_values(&[id.as_str()]).unwrap().inc();
            created += 1;
            if created > day.live_churn {
                let old = (created - 1 - day.live_churn).to_string();
                assert!(sessions.remove(&[old.as_str()]).unwrap());
                removed += 1;
            }
        }
        if i % render_every == 0 {
            assert!(!r.render_text().is_empty());
            rendered += 1;
        }
        if i % tick_every == 0 {
            let _ = sampler.sample_now();
            ticked += 1;
        }
        if i % (day.requests / 200).max(1) == 0 {
            let rss = resident_bytes();
            if i >= warm_up_end {
                if baseline == 0 {
                    baseline = rss;
                }
                peak = peak.max(rss);
            }
        }
    }
    let end = resident_bytes();
    peak = peak.max(end);
    let secs = start.elapsed().as_secs_f64();
    let growth = peak.saturating_sub(baseline);
    println!(
        "soak: scale {scale}: {} requests ({:.0}/s achieved, {:.1} s), {rendered} renders, \
         {ticked} sampler ticks, {created} series created, {removed} removed; RSS after warm-up \
         {:.1} MiB, peak {:.1} MiB, end {:.1} MiB, growth {} KiB",
        day.requests,
        day.requests as f64 / secs,
        secs,
        baseline as f64 / 1_048_576.0,
        peak as f64 / 1_048_576.0,
        end as f64 / 1_048_576.0,
        growth / 1024,
    );
    assert_eq!(sessions.len() as u64, created.min(day.live_churn));
    assert!(
        growth <= 1 << 20,
        "resident memory grew by {growth} bytes after warm-up"
    );
}
