//! The resource sampler's cost, beside `sysinfo` (the portable source, here the peer)
//! in the same run: `cargo bench -p metricore --bench sampler`.
//!
//! 1. CPU time of one full sample (this thread's CPU clock around a batch of
//!    samples; median of 11 batches), ours (`/proc`) and sysinfo's.
//! 2. The sampler thread at a 1 s interval: the process's CPU time over 60 s
//!    while the main thread sleeps, as a share of one core (TCP states are
//!    counted every 10 s of those, see `Sample`).
//! 3. Resident memory added by making and running a sampler.
//!
//! With `--test` (as `scripts/test.sh` runs it) everything runs briefly and no
//! bar is judged.
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use metricore::{Probe, Sampler};

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock id is one Linux supports.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Median CPU time per full sample over `batches` batches of `per_batch` samples, each
/// by a fresh probe from `make`, so that nothing a probe reuses between samples
/// (the TCP state counts) is skipped.
fn cpu_per_sample(make: impl Fn() -> Probe, batches: usize, per_batch: u32) -> Duration {
    std::hint::black_box(make().sample()); // warm the page cache and the allocator
    let mut v: Vec<Duration> = (0..batches)
        .map(|_| {
            let start = thread_cpu();
            for _ in 0..per_batch {
                std::hint::black_box(make().sample());
            }
            thread_cpu().saturating_sub(start) / per_batch
        })
        .collect();
    v.sort();
    v[v.len() / 2]
}

fn resident() -> u64 {
    Probe::new()
        .sample()
        .process
        .resident_memory_bytes
        .expect("RSS on Linux")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench");
    let (batches, per_batch, window) = if quick {
        (3, 2, Duration::from_secs(2))
    } else {
        (11, 20, Duration::from_secs(60))
    };

    let rss_before = resident();
    let sampler = Sampler::new();
    sampler
        .start(Duration::from_secs(1))
        .expect("1 s is a valid interval");
    std::thread::sleep(Duration::from_millis(50));
    let rss_running = resident();

    let ours = cpu_per_sample(Probe::new, batches, per_batch);
    let peer = cpu_per_sample(Probe::portable, batches, per_batch);

    let mut probe = Probe::new();
    let cpu_start = probe.sample().process.cpu_seconds.expect("CPU on Linux");
    let wall = Instant::now();
    std::thread::sleep(window);
    let cpu_end = probe.sample().process.cpu_seconds.expect("CPU on Linux");
    let share = (cpu_end - cpu_start) / wall.elapsed().as_secs_f64() * 100.0;
    sampler.stop();

    let verdict = |ok: bool| {
        if quick {
            "n/a"
        } else if ok {
            "PASS"
        } else {
            "MISS"
        }
    };
    let added = rss_running.saturating_sub(rss_before);
    println!(
        "\n==== resource sampler: {}",
        if quick {
            "QUICK (--test): brief runs, bars not judged"
        } else {
            "median of 11 batches of 20 samples; 60 s window"
        }
    );
    println!(
        "{:<44} {:>12} {:>14} {:>8}  {:<12} verdict",
        "measure", "metricore", "sysinfo", "ratio", "bar"
    );
    println!(
        "{:<44} {:>9.1} µs {:>11.1} µs {:>7.2}x  {:<12} {}",
        "CPU per full sample",
        ours.as_secs_f64() * 1e6,
        peer.as_secs_f64() * 1e6,
        ours.as_secs_f64() / peer.as_secs_f64(),
        "<= 1 ms",
        verdict(ours <= Duration::from_millis(1))
    );
    println!(
        "{:<44} {:>10.3} % {:>14} {:>8}  {:<12} {}",
        format!("CPU at 1 s interval over {} s", window.as_secs()),
        share,
        "-",
        "-",
        "< 0.1 %",
        verdict(share < 0.1)
    );
    println!(
        "{:<44} {:>10} B {:>14} {:>8}  {:<12} {}",
        "RSS added by a running sampler",
        added,
        "-",
        "-",
        "< 1 MB",
        verdict(added < 1 << 20)
    );
    println!(
        "  note: sysinfo gives fewer figures (no fds, context switches, CPU modes, disks, TCP);\n  \
         note: the window's share includes this process's other threads, which sleep."
    );
}
