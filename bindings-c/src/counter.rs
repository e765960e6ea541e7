//! Counter series handles: the hot path.

use metricore::Counter;

use crate::error::{check, metricore_status, status};
use crate::ffi::{self, Castable, OwnershipArc};

/// One counter series: a total that only goes up, by whole increments
/// (`metricore_counter_inc`, `metricore_counter_add`) or any finite non-negative amount
/// (`metricore_counter_add_f64`).
///
/// Under the hood an `Arc<Counter>`. Each pointer the library returns owns one reference:
/// `metricore_counter_clone` adds one, `metricore_counter_free` drops one. The series stays
/// in its family (and is collected) after the handle is freed.
/// Safe for concurrent use from any thread; increments never lock.
pub struct metricore_counter {
    _private: [u8; 0],
}

impl Castable for metricore_counter {
    type Ownership = OwnershipArc;
    type RustType = Counter;
}

/// Adds 1. NULL does nothing. Thread-safe and lock-free; never allocates.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_counter_inc(counter: *const metricore_counter) {
    boundary! {
        try_ref!(counter).inc();
    }
}

/// Adds `n` (0 is allowed and counts nothing). NULL does nothing. Thread-safe and lock-free.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_counter_add(counter: *const metricore_counter, n: u64) {
    boundary! {
        try_ref!(counter).inc_by(n);
    }
}

/// Adds `v`, which may have a fraction (seconds, bytes, a cost): any finite value from 0 up.
///
/// Errors: `NULL_PARAMETER`; `INVALID_VALUE` for a negative value (a counter only goes up),
/// NaN or an infinity, with nothing added. Thread-safe and lock-free; never allocates unless
/// it fails.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_counter_add_f64(
    counter: *const metricore_counter,
    v: f64,
) -> metricore_status {
    boundary! {
        status(check(try_ref!(counter).add(v)))
    }
}

/// The whole part of the total, saturating at `UINT64_MAX` (0 for NULL): exact for any
/// number of whole increments, fractions added with `metricore_counter_add_f64` rounded
/// down. Thread-safe: a sum over the counter's cells, exact once concurrent increments
/// have returned.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_counter_get(counter: *const metricore_counter) -> u64 {
    boundary! {
        try_ref!(counter).get()
    }
}

/// The total, whole and fractional increments together, as a scrape exposes it (0 for
/// NULL): exact up to 2^53. Thread-safe, as `metricore_counter_get`.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_counter_value(counter: *const metricore_counter) -> f64 {
    boundary! {
        try_ref!(counter).value()
    }
}

/// Adds a reference to a counter handle and returns it (NULL for NULL); free each with
/// `metricore_counter_free`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_counter_clone(
    counter: *const metricore_counter,
) -> *const metricore_counter {
    boundary! {
        ffi::arc_clone(counter)
    }
}

/// Releases one reference to a counter handle; NULL does nothing. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_counter_free(counter: *const metricore_counter) {
    boundary! {
        ffi::arc_free(counter);
    }
}
