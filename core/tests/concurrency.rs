//! Many threads updating one series while another thread keeps reading it.
//!
//! Every test runs 2 or 8 writer threads of 1,000,000 operations each on a
//! shared handle and checks the exact total after the join. Meanwhile a reader
//! thread snapshots continuously and checks what must hold at any instant:
//! counters never go backwards, and a histogram snapshot is self-consistent
//! (its `count` equals the sum of its bucket counts and of its HDR counts).
//!
//! The hot loops allocate nothing, so a debug build on two cores stays in
//! seconds; each test prints its wall time and how many snapshots it took.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Instant;

use metricore::registry::SeriesValue;
use metricore::{
    Counter, Gauge, Histogram, HistogramOpts, HistogramSnapshot, MetricOpts, Registry,
};

/// Operations per writer thread.
const OPS: u64 = 1_000_000;

/// Runs `threads` writers (`write(thread_index)`) while `read` is called in a
/// loop on another thread, then once more after every writer has finished.
/// Returns how many reads were made. A panic in any thread fails the test.
fn hammer(
    name: &str,
    threads: usize,
    write: impl Fn(usize) + Sync,
    mut read: impl FnMut() + Send,
) -> u64 {
    let start = Instant::now();
    let done = AtomicBool::new(false);
    let reads = thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut n = 0;
            // Acquire: pairs with the Release below, so the last read sees every write.
            while !done.load(Ordering::Acquire) {
                read();
                n += 1;
            }
            read();
            n + 1
        });
        let write = &write;
        let writers: Vec<_> = (0..threads).map(|t| s.spawn(move || write(t))).collect();
        for w in writers {
            w.join().expect("writer panicked");
        }
        done.store(true, Ordering::Release);
        reader.join().expect("reader panicked")
    });
    eprintln!(
        "{name}: {threads} threads x {OPS} ops in {:.2?} ({reads} concurrent reads)",
        start.elapsed()
    );
    reads
}

fn total(threads: usize) -> u64 {
    threads as u64 * OPS
}

fn counter_shared_handle(threads: usize) {
    let counter = Counter::new();
    let mut last = 0;
    hammer(
        "counter",
        threads,
        |_| {
            for _ in 0..OPS {
                counter.inc();
            }
        },
        || {
            let now = counter.get();
            assert!(now >= last, "counter went backwards: {last} -> {now}");
            assert!(now <= total(threads), "counter above the total: {now}");
            last = now;
        },
    );
    assert_eq!(counter.get(), total(threads));
}

#[test]
fn counter_2_threads() {
    counter_shared_handle(2);
}

#[test]
fn counter_8_threads() {
    counter_shared_handle(8);
}

#[allow(
    clippy::float_cmp,
    reason = "sums of whole numbers below 2^53 are exact in f64"
)]
fn gauge_inc(threads: usize) {
    let gauge = Gauge::new();
    let mut last = 0.0;
    hammer(
        "gauge",
        threads,
        |_| {
            for _ in 0..OPS {
                gauge.inc();
            }
        },
        || {
            let now = gauge.get();
            assert!(
                now >= last,
                "gauge of increments went backwards: {last} -> {now}"
            );
            assert_eq!(now.fract(), 0.0, "a sum of whole increments: {now}");
            last = now;
        },
    );
    assert_eq!(gauge.get(), total(threads) as f64);
}

#[test]
fn gauge_2_threads() {
    gauge_inc(2);
}

#[test]
fn gauge_8_threads() {
    gauge_inc(8);
}

/// The value writer `t` records at step `i`: spread over a few decades so
/// snapshots cross many count pages, and different per thread.
fn sample(t: usize, i: u64) -> u64 {
    1 + (i % 4096) * (t as u64 + 1) * 37
}

/// Checks what any snapshot, concurrent or not, must satisfy.
fn check_consistent(s: &HistogramSnapshot) {
    let by_bucket: u64 = s.bucket_counts().iter().sum();
    let by_value: u64 = s.recorded_values().map(|(_, n)| n).sum();
    assert_eq!(
        s.count(),
        by_bucket,
        "count vs bucket counts {:?}",
        s.bucket_counts()
    );
    assert_eq!(s.count(), by_value, "count vs HDR counts");
    let buckets = s.buckets();
    assert_eq!(
        buckets.last().map(|b| b.cumulative_count),
        Some(s.count()),
        "+Inf bucket vs count"
    );
    assert!(
        buckets
            .windows(2)
            .all(|w| w[0].cumulative_count <= w[1].cumulative_count),
        "cumulative buckets decrease"
    );
}

#[allow(
    clippy::float_cmp,
    reason = "sums of whole numbers below 2^53 are exact in f64"
)]
fn histogram_record(name: &str, threads: usize, opts: &HistogramOpts) {
    let h = Histogram::new(name, opts).unwrap();
    let mut last = 0;
    hammer(
        name,
        threads,
        |t| {
            for i in 0..OPS {
                h.record(sample(t, i));
            }
        },
        || {
            let s = h.snapshot();
            check_consistent(&s);
            assert!(
                s.count() >= last,
                "histogram count went backwards: {last} -> {}",
                s.count()
            );
            assert!(s.count() <= total(threads));
            last = s.count();
        },
    );
    let s = h.snapshot();
    check_consistent(&s);
    let expected_sum: u64 = (0..threads)
        .flat_map(|t| (0..OPS).map(move |i| sample(t, i)))
        .sum();
    assert_eq!(s.count(), total(threads));
    // Every value and the sum stay below 2^53, so the f64 sum is exact.
    assert_eq!(s.sum_native(), expected_sum as f64);
    assert_eq!(s.min(), 1);
    assert_eq!(
        s.max(),
        (0..threads).map(|t| sample(t, 4095)).max().unwrap()
    );
}

#[test]
fn histogram_2_threads() {
    histogram_record("latency", 2, &HistogramOpts::latency());
}

#[test]
fn histogram_8_threads() {
    histogram_record("latency", 8, &HistogramOpts::latency());
}

/// With explicit bounds the exact per-bound counts are kept beside the HDR
/// counts; a snapshot taken mid-recording must still agree with itself, or the
/// exposed `_count` and `le="+Inf"` bucket would differ.
#[test]
fn histogram_with_exact_buckets_2_threads() {
    histogram_record(
        "latency_exact",
        2,
        &HistogramOpts::latency().buckets(vec![0.000_1, 0.001, 0.01, 0.1]),
    );
}

const LABELS: [&str; 3] = ["GET", "POST", "PUT"];

/// Which label writer `t` uses at step `i` (several threads share each series).
fn label(t: usize, i: u64) -> &'static str {
    LABELS[(t + i as usize) % LABELS.len()]
}

fn family_lookup_and_inc(threads: usize) {
    let registry = Registry::new();
    let family = registry
        .counter_family(MetricOpts::new("requests", "Requests.").labels(["method"]))
        .unwrap();
    let mut last = [0.0f64; LABELS.len()];
    hammer(
        "family",
        threads,
        |t| {
            for i in 0..OPS {
                family.with_label_values(&[label(t, i)]).unwrap().inc();
            }
        },
        || {
            for fam in registry.gather() {
                assert_eq!(fam.name, "requests", "no overflow or other family appears");
                for series in &fam.series {
                    let l = series.labels.iter().next().unwrap();
                    let i = LABELS.iter().position(|x| *x == l).unwrap();
                    let SeriesValue::Counter { value, .. } = series.value else {
                        panic!("not a counter: {:?}", series.value)
                    };
                    assert!(
                        value >= last[i],
                        "{l} went backwards: {} -> {value}",
                        last[i]
                    );
                    last[i] = value;
                }
            }
        },
    );
    let mut expected = [0u64; LABELS.len()];
    for t in 0..threads {
        for (i, e) in expected.iter_mut().enumerate() {
            // Steps i, i + 3, i + 6, … of thread t use label (t + i) % 3.
            *e += (OPS + 2 - ((i + LABELS.len() - t % LABELS.len()) % LABELS.len()) as u64)
                / LABELS.len() as u64;
        }
    }
    assert_eq!(expected.iter().sum::<u64>(), total(threads));
    for (l, e) in LABELS.iter().zip(expected) {
        assert_eq!(
            family.with_label_values(&[l]).unwrap().get(),
            e,
            "label {l}"
        );
    }
    assert_eq!(family.len(), LABELS.len());
    assert_eq!(family.overflowed(), 0);
}

#[test]
fn family_2_threads() {
    family_lookup_and_inc(2);
}

#[test]
fn family_8_threads() {
    family_lookup_and_inc(8);
}

/// The value written by writer `t` in the phase `phase` of `reset_from_another_thread`:
/// below 2048, so each has a bucket of its own and sums are exact.
fn phase_value(phase: u64, t: usize) -> u64 {
    100 * phase + t as u64 + 1
}

/// A reset from another thread while writers record: nothing recorded before the reset is
/// seen after it, nothing recorded after it is lost, and each record racing with it lands
/// whole on one side (its count, sum and extremes together).
#[test]
#[allow(
    clippy::float_cmp,
    reason = "sums of whole numbers below 2^53 are exact in f64"
)]
fn reset_from_another_thread() {
    const WRITERS: usize = 3;
    const AFTER: u64 = 20_000;
    let h = Histogram::new("reset_race", &HistogramOpts::latency()).unwrap();
    // 0: before the reset, 1: racing with it, 2: after it returned.
    let phase = std::sync::atomic::AtomicU64::new(0);
    let ready = std::sync::Barrier::new(WRITERS + 1);
    thread::scope(|s| {
        for t in 0..WRITERS {
            let (h, phase, ready) = (&h, &phase, &ready);
            s.spawn(move || {
                for _ in 0..1000 {
                    h.record(phase_value(0, t));
                }
                ready.wait();
                // Acquire: pairs with the Release stores below, so a record in phase 2
                // starts after the reset returned.
                while phase.load(Ordering::Acquire) < 2 {
                    h.record(phase_value(1, t));
                }
                for _ in 0..AFTER {
                    h.record(phase_value(2, t));
                }
            });
        }
        ready.wait();
        phase.store(1, Ordering::Release);
        thread::sleep(std::time::Duration::from_millis(5));
        h.reset();
        phase.store(2, Ordering::Release);
    });
    let s = h.snapshot();
    check_consistent(&s);
    let mut expected_sum = 0;
    for (value, n) in s.recorded_values() {
        assert!(
            value >= 100,
            "{n} values of {value}, recorded before the reset, seen after it"
        );
        expected_sum += value * n;
    }
    for t in 0..WRITERS {
        let n = s
            .recorded_values()
            .find(|&(v, _)| v == phase_value(2, t))
            .map_or(0, |(_, n)| n);
        assert_eq!(n, AFTER, "writer {t}'s records after the reset");
    }
    assert_eq!(
        s.sum_native(),
        expected_sum as f64,
        "sum of what is counted"
    );
    assert_eq!(s.min(), s.recorded_values().next().unwrap().0);
}

/// Threads that record and end keep their counts, more threads than there are shard slots
/// alive at once record through the shared part, and neither loses anything.
#[test]
#[allow(
    clippy::float_cmp,
    reason = "sums of whole numbers below 2^53 are exact in f64"
)]
fn thread_exit_and_more_threads_than_shards() {
    const THREADS: usize = 160;
    const EACH: u64 = 500;
    let h = Histogram::new("many_threads", &HistogramOpts::latency()).unwrap();
    // Wave 1: threads that all live at once (past the 128 slots).
    let all_alive = std::sync::Barrier::new(THREADS);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (h, all_alive) = (&h, &all_alive);
            s.spawn(move || {
                all_alive.wait();
                for i in 0..EACH {
                    h.record(sample(t, i));
                }
                all_alive.wait();
            });
        }
    });
    // Wave 2: threads that end one after another, each taking a slot an ended one gave back.
    for t in 0..THREADS {
        let h = h.clone();
        thread::spawn(move || {
            for i in 0..EACH {
                h.record(sample(t, i));
            }
        })
        .join()
        .unwrap();
    }
    let s = h.snapshot();
    check_consistent(&s);
    let expected: u64 = (0..THREADS)
        .flat_map(|t| (0..EACH).map(move |i| sample(t, i)))
        .sum();
    assert_eq!(s.count(), 2 * THREADS as u64 * EACH);
    assert_eq!(s.sum_native(), 2.0 * expected as f64);
    assert_eq!(s.min(), 1);
}
