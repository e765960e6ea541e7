//! Test- and bench-only exports, compiled only with the `testing` feature (which only
//! tests/c/run.sh enables). The header declares them inside `#if defined(METRICORE_TESTING)`,
//! so a C program sees them only when it defines that macro, and the installed library,
//! built without the feature, exports exactly the unguarded declarations.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use metricore::clock::ManualClock;
use metricore::{MetricOpts, SummaryOpts, WindowOpts};

use crate::counter::metricore_counter;
use crate::error::{fail_core, metricore_status};
use crate::histogram::metricore_histogram;
use crate::registry::metricore_registry;

/// Test-only (`testing` feature): panics inside the boundary, so a C test can check that the
/// panic becomes `METRICORE_STATUS_PANIC` and a last-error message, and that the library
/// keeps working afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_test_panic() -> metricore_status {
    boundary! {
        panic!("metricore_test_panic was called");
    }
}

/// Test-only (`testing` feature): panics inside the boundary of a call that returns a value
/// rather than a status, which must come back as the neutral default 0.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_test_panic_u64() -> u64 {
    boundary! {
        assert!(!black_box(true), "metricore_test_panic_u64 was called");
        42
    }
}

/// Bench-only (`testing` feature): runs `iterations` increments of `counter` in a native
/// Rust loop (the core's `Counter::inc`, inlined) and returns the elapsed nanoseconds, so
/// that one C process can time the same work with and without the C ABI. 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_bench_rust_counter_inc(
    counter: *const metricore_counter,
    iterations: u64,
) -> u64 {
    boundary! {
        let counter = try_ref!(counter);
        let start = Instant::now();
        for _ in 0..iterations {
            counter.inc();
        }
        start.elapsed().as_nanos() as u64
    }
}

/// Bench-only (`testing` feature): records `iterations` values `100 + (i & 1023)` into
/// `histogram` in a native Rust loop and returns the elapsed nanoseconds; the C bench
/// records the same values through `metricore_histogram_record`. 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_bench_rust_histogram_record(
    histogram: *const metricore_histogram,
    iterations: u64,
) -> u64 {
    boundary! {
        let histogram = try_ref!(histogram);
        let start = Instant::now();
        for i in 0..iterations {
            histogram.record(100 + (i & 1023));
        }
        start.elapsed().as_nanos() as u64
    }
}

/// Test-only (`testing` feature): `rounds` rounds of the per-series work that takes a lock a
/// render also takes, for `tests/c/test_fork.c` to fork in the middle of. Each round steps a
/// manual clock by one sub-window and records into the windowed summary `test_window_seconds`
/// (so the record rotates the window under its lock), and increments the counter
/// `test_exemplars_total` with an exemplar (under the exemplar slot's lock). Both are
/// registered in `registry` on the first call; a render reads both (the summary's window
/// and, in OpenMetrics, the exemplar).
#[unsafe(no_mangle)]
pub extern "C" fn metricore_test_window_and_exemplar_work(
    registry: *const metricore_registry,
    rounds: u64,
) -> metricore_status {
    boundary! {
        let registry = try_ref!(registry);
        // One clock and window for the process: registering the summary again with another
        // clock would be a different shape.
        static WINDOW: OnceLock<(ManualClock, WindowOpts)> = OnceLock::new();
        let (clock, window) = WINDOW.get_or_init(|| {
            let clock = ManualClock::new();
            let window = WindowOpts::new("test_window_seconds", Duration::from_secs(1), 10)
                .expect("a valid window")
                .with_clock(clock.clone());
            (clock, window)
        });
        let summary = registry
            .summary_family(
                MetricOpts::new("test_window_seconds", "Rotated by every record."),
                SummaryOpts::new().window(window.clone()),
            )
            .and_then(|f| f.with_label_values::<&str>(&[]));
        let counter = registry.counter(MetricOpts::new("test_exemplars", "Each with an exemplar."));
        let (summary, counter) = match (summary, counter) {
            (Ok(s), Ok(c)) => (s, c),
            (Err(e), _) | (_, Err(e)) => return fail_core(&e),
        };
        for i in 0..rounds {
            clock.advance(Duration::from_millis(100));
            if let Err(e) = summary.observe(i as f64) {
                return fail_core(&e);
            }
            if let Err(e) = counter.inc_by_with_exemplar(1, &[("trace_id", "t")]) {
                return fail_core(&e);
            }
        }
        metricore_status::Ok
    }
}
