//! Test- and bench-only exports, compiled only with the `testing` feature (which only
//! tests/c/run.sh enables). The header declares them inside `#if defined(METRICORE_TESTING)`,
//! so a C program sees them only when it defines that macro, and the installed library,
//! built without the feature, exports exactly the unguarded declarations.

use std::hint::black_box;
use std::time::Instant;

use crate::counter::metricore_counter;
use crate::error::metricore_status;
use crate::histogram::metricore_histogram;

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
