//! Counter series handles: the hot path.

use metricore::Counter;

use crate::ffi::{self, Castable, OwnershipArc};

/// One counter series: an unsigned 64-bit total that only goes up.
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

/// The current total (0 for NULL). Thread-safe: a sum over the counter's cells, exact once
/// concurrent increments have returned.
#[unsafe(no_mangle)]
pub extern "C" fn metricore_counter_get(counter: *const metricore_counter) -> u64 {
    boundary! {
        try_ref!(counter).get()
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
